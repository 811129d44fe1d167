/**
 * Fault suite, kills: the built CLI is killed -9 after a plan step (KATA_DEPLOY_TEST_CRASH_AFTER_STEP), inside
 * a write, inside a service start and inside the node lock (KATA_DEPLOY_TEST_FAULT), against a real containerd
 * 2.1 run by the process supervisor. After each kill the same command (or the other one) runs again, and must
 * converge: install to exactly the state one install reaches, cleanup to the root as it was before install,
 * with no temp file left anywhere under the root, nothing in TMPDIR, and exactly one containerd, the tracked one.
 *
 * The step points are every step that is not one of the many payload copies, plus two of those; a seeded
 * sample of them runs (KATA_DEPLOY_FAULT_ALL=1: all). KATA_DEPLOY_FAULT_SEED replays a run.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { assertKilled, assertOk, disposeNodes, planOf, startNode, UNIT, type FaultNode } from './node.js';
import { announceSeed, rngFor } from './seed.js';

const ALL = process.env['KATA_DEPLOY_FAULT_ALL'] === '1';
const STEP_SAMPLE = 5;
const rng = rngFor('kills');

// The plans decide the cases, so a node is set up before the cases are declared.
announceSeed('kills');
after(disposeNodes);

interface Baseline {
  readonly node: FaultNode;
  /** The root before install, and after one install. */
  readonly clean: Record<string, string>;
  readonly complete: Record<string, string>;
  readonly installPlan: { kind: string; path?: string }[];
  readonly cleanupPlan: { kind: string; path?: string }[];
}

async function baseline(): Promise<Baseline> {
  const node = await startNode({ version: '2.1' });
  const clean = await node.snapshot();
  const installPlan = await planOf(node, 'install');
  assertOk(await node.cli('install'), 'install');
  const complete = await node.snapshot();
  const cleanupPlan = await planOf(node, 'cleanup');
  assertOk(await node.cli('cleanup'), 'cleanup');
  assert.deepEqual(await node.snapshot(), clean);
  return { node, clean, complete, installPlan, cleanupPlan };
}

let b = await baseline();
const { installPlan, cleanupPlan } = b;

/** Starts every case from a clean node: a failed case must not fail the ones after it. */
async function cleanNode(): Promise<FaultNode> {
  const dirty =
    JSON.stringify(await b.node.snapshot()) !== JSON.stringify(b.clean) ||
    (await b.node.containerds()).length !== 1;
  if (dirty) {
    await b.node.dispose();
    b = await baseline();
  }
  return b.node;
}

/** The root as a converged install or cleanup leaves it: no temp file, one tracked containerd. */
async function assertConverged(expected: 'clean' | 'complete', what: string): Promise<void> {
  const node = b.node;
  assert.deepEqual(await node.snapshot(), b[expected], what);
  assert.deepEqual(await node.temps(), [], `${what}: temp files left`);
  const running = await node.containerds();
  const recorded = (await node.host.readText(`/run/kata-deploy/services/${UNIT}.pid`))?.split(' ')[0];
  assert.equal(running.length, 1, `${what}: ${running.length} containerds run on this root`);
  assert.equal(String(running[0]), recorded, `${what}: the running containerd is the recorded one`);
}

const isArtifact = (s: { kind: string; path?: string }) =>
  ['mkdir', 'copyFile', 'symlink', 'writeFile'].includes(s.kind) && s.path?.startsWith('/opt/kata') === true;

/** Every step number that is not a payload copy, and two that are; a seeded sample unless ALL. */
function stepPoints(plan: readonly { kind: string; path?: string }[]): number[] {
  const plain = plan.flatMap((s, i) => (isArtifact(s) ? [] : [i + 1]));
  const copies = rng.sample(
    plan.flatMap((s, i) => (isArtifact(s) ? [i + 1] : [])),
    2,
  );
  const points = [...new Set([...plain, ...copies])].sort((a, b) => a - b);
  return ALL ? points : rng.sample(points, STEP_SAMPLE);
}

const PHASES = ['opened', 'written', 'synced', 'renamed'];
/** How many writes of the plan pass `phase`: a symlink is opened and renamed, never written or synced. */
const writeCount = (plan: readonly { kind: string }[], phase: string) =>
  plan.filter((s) =>
    [
      'writeFile',
      'copyFile',
      'writeState',
      ...(['opened', 'renamed'].includes(phase) ? ['symlink'] : []),
    ].includes(s.kind),
  ).length;
/** A write fault point the plan reaches: a phase, then a write that passes it. */
const writePoint = (plan: readonly { kind: string }[], from: number): string => {
  const phase = rng.pick(PHASES);
  return `write.${phase}@${rng.int(from, writeCount(plan, phase))}`;
};
const describeStep = (plan: readonly { kind: string; path?: string }[], n: number) =>
  `${plan[n - 1]!.kind}${plan[n - 1]!.path ? ` ${plan[n - 1]!.path}` : ''}`;

describe('kill -9 after a step of install: install again converges, cleanup restores', () => {
  for (const n of stepPoints(installPlan)) {
    it(`after step ${n} of ${installPlan.length} (${describeStep(installPlan, n)})`, async () => {
      const node = await cleanNode();
      assertKilled(await node.cli('install', { crashAfterStep: n }), `install (step ${n})`);
      assertOk(await node.cli('install'), `install after a kill after step ${n}`);
      await assertConverged('complete', `install after a kill after step ${n}`);
      assertOk(await node.cli('cleanup'), 'cleanup');
      await assertConverged('clean', `cleanup after a kill after install step ${n}`);
    });
  }
});

describe('kill -9 after a step of cleanup: cleanup again restores the root', () => {
  for (const n of stepPoints(cleanupPlan)) {
    it(`after step ${n} of ${cleanupPlan.length} (${describeStep(cleanupPlan, n)})`, async () => {
      const node = await cleanNode();
      assertOk(await node.cli('install'), 'install');
      assertKilled(await node.cli('cleanup', { crashAfterStep: n }), `cleanup (step ${n})`);
      assertOk(await node.cli('cleanup'), `cleanup after a kill after step ${n}`);
      await assertConverged('clean', `cleanup after a kill after step ${n}`);
    });
  }
});

describe('kill -9 inside a write: no temp file survives the next run', () => {
  const cases: [string, string][] = [
    // The first write of an install is the backup of config.toml: its temp sat beside the .bak for good.
    ['install', 'write.written@1'],
    ['install', 'write.synced@1'],
    ...Array.from({ length: 3 }, (): [string, string] => ['install', writePoint(installPlan, 2)]),
    ...Array.from({ length: 2 }, (): [string, string] => ['cleanup', writePoint(cleanupPlan, 1)]),
  ];
  for (const [action, fault] of cases) {
    it(`${action} killed at ${fault}, then ${action === 'install' ? 'cleanup at once, install, cleanup' : 'cleanup'}`, async () => {
      const node = await cleanNode();
      if (action === 'cleanup') assertOk(await node.cli('install'), 'install');
      assertKilled(await node.cli(action, { fault }), `${action} at ${fault}`);
      if (action === 'install') {
        assertOk(await node.cli('cleanup'), `cleanup after install killed at ${fault}`);
        await assertConverged('clean', `cleanup after install killed at ${fault}`);
        assertKilled(await node.cli(action, { fault }), `${action} at ${fault}, again`);
        assertOk(await node.cli('install'), `install after a kill at ${fault}`);
        await assertConverged('complete', `install after a kill at ${fault}`);
      }
      assertOk(await node.cli('cleanup'), 'cleanup');
      await assertConverged('clean', `cleanup after ${action} killed at ${fault}`);
    });
  }
});

describe('kill -9 inside a service start: never a containerd nobody tracks', () => {
  const cases: [string, string][] = [
    ['install', 'service.spawning'],
    ['install', 'service.spawned'],
    ['install', 'service.recorded'],
    ['cleanup', 'service.spawned'],
  ];
  for (const [action, fault] of cases) {
    it(`${action} killed at ${fault}`, async () => {
      const node = await cleanNode();
      if (action === 'cleanup') assertOk(await node.cli('install'), 'install');
      assertKilled(await node.cli(action, { fault }), `${action} at ${fault}`);
      assert.ok((await node.containerds()).length <= 1, 'at most one containerd right after the kill');
      assertOk(await node.cli(action), `${action} after a kill at ${fault}`);
      await assertConverged(
        action === 'install' ? 'complete' : 'clean',
        `${action} after a kill at ${fault}`,
      );
      if (action === 'install') {
        assertOk(await node.cli('cleanup'), 'cleanup');
        await assertConverged('clean', `cleanup after install killed at ${fault}`);
      }
    });
  }
});

describe('kill -9 inside the node lock: the next run takes it at once', () => {
  for (const fault of ['lock.locked', 'lock.written']) {
    it(`install killed at ${fault}`, async () => {
      const node = await cleanNode();
      assertKilled(await node.cli('install', { fault }), `install at ${fault}`);
      const started = Date.now();
      assertOk(await node.cli('install'), `install after a kill at ${fault}`);
      assert.ok(Date.now() - started < 60_000);
      await assertConverged('complete', `install after a kill at ${fault}`);
      assertOk(await node.cli('cleanup'), 'cleanup');
      await assertConverged('clean', `cleanup after a kill at ${fault}`);
    });
  }
});

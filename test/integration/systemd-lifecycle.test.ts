/**
 * `kata-deploy install | cleanup | reset --service-manager systemd` on the systemd bed: a real systemd 252 as
 * the node's PID 1, containerd 1.6, 1.7 and 2.1 as its `containerd.service`, kata-deploy in a pod (the node's
 * PID namespace, its root at /mnt/host) reaching systemd over D-Bus on /run/systemd/private. The same checks as
 * the process supervisor's (lifecycle.test.ts, nydus-lifecycle.test.ts): handlers served after the restart,
 * install twice = install once, cleanup restores the tree byte for byte, reset restarts, the nydus snapshotter
 * as a real unit ordered before and wanted by containerd's, pulls through it, and a kill -9 after any step
 * converges. One bed per containerd version, shared by its tests.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { busyboxImage, generateImage, startRegistry, type Registry, type RunResult } from '../bed/index.js';
import { startSystemdNode, type SystemdNode } from '../bed/systemd/index.js';
import { assemblePayload } from '../../sandbox/payload.js';
import { crashPoints } from '../support/crash-points.js';
import { criStatus, snapshotTree } from '../support/node-tree.js';
import { waitContainerdAnswer } from '../support/node-root.js';

const HANDLERS = ['kata-qemu', 'kata-qemu-runtime-rs', 'kata-clh'];
const NYDUS = 'nydus-for-kata-tee';
const NYDUS_UNIT = `${NYDUS}.service`;
/** What systemd, journald and containerd change on the node themselves; everything else must come back. */
const VOLATILE = new Set([
  'run',
  'tmp',
  'var/tmp',
  'var/log',
  'var/lib/systemd',
  'var/lib/containerd',
  'var/lib/containerd-opt',
  `var/lib/${NYDUS}`,
]);

let work: string;
let payload: string;
let registry: Registry;
let appRef: string;

before(async () => {
  work = await mkdtemp('/tmp/kd-sdl-');
  payload = (await assemblePayload(join(work, 'payload'))).dir;
  registry = await startRegistry({ root: join(work, 'registry') });
  const app = await generateImage({ name: 'test/app:v1', layers: 3, seed: 'systemd-lifecycle' }, work);
  appRef = await registry.push(app, 'test/app:v1');
  await registry.push(await busyboxImage(work), 'test/busybox:v1');
});

after(async () => {
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

function ok(r: RunResult, what: string): RunResult {
  assert.equal(r.code, 0, `${what} failed (${r.code}, ${r.signal}):\n${r.stderr}\n${r.stdout}`);
  return r;
}

const env = (node: SystemdNode, nydus: boolean): Record<string, string> => ({
  NODE_NAME: 'systemd-node',
  SHIMS_X86_64: HANDLERS.map((h) => h.slice(5)).join(' '),
  ...(nydus ? { EXPERIMENTAL_SETUP_SNAPSHOTTER: 'nydus' } : {}),
  ...(nydus && node.version !== '1.6' ? { SNAPSHOTTER_HANDLER_MAPPING_X86_64: 'qemu:nydus' } : {}),
});

function cli(
  node: SystemdNode,
  action: string,
  opts: { nydus?: boolean; env?: Record<string, string>; extra?: string[] } = {},
) {
  const args = [action, ...(action === 'install' ? ['--artifacts-dir', payload] : []), ...(opts.extra ?? [])];
  return node.cli(args, { ...env(node, opts.nydus ?? false), ...opts.env });
}

const tree = (node: SystemdNode) => snapshotTree(node.bed.root, VOLATILE);

async function pull(node: SystemdNode, ref: string): Promise<void> {
  const local = node.version === '1.6' ? [] : ['--local'];
  ok(
    await node.ctr(['images', 'pull', ...local, '--plain-http', '--snapshotter', NYDUS, ref], {
      allowFail: true,
    }),
    `pull ${ref}`,
  );
}

for (const version of ['1.6', '1.7', '2.1'] as const) {
  describe(`systemd bed, containerd ${version}`, () => {
    let node: SystemdNode;
    before(async () => {
      node = await startSystemdNode(version);
    });
    after(async () => {
      await node?.bed.teardown();
    });

    it('install 3 shims → restart through systemd serves the handlers → reinstall changes nothing → cleanup restores the tree → reset', async () => {
      const before = await tree(node);
      const pid = await node.mainPid();
      const installed = JSON.parse(
        ok(await cli(node, 'install', { extra: ['--json'] }), 'install').stdout,
      ) as {
        runtime: string;
      };
      assert.equal(
        installed.runtime,
        'containerd',
        'detected through systemd: no distribution unit is active',
      );
      assert.notEqual(await node.mainPid(), pid, 'systemd restarted containerd.service');
      const status = await criStatus(node.socket);
      for (const h of HANDLERS)
        assert.ok(status?.handlers.includes(h), `CRI lists ${h}: ${status?.handlers.join(',')}`);
      const complete = await tree(node);
      assert.ok(complete['opt/kata/bin/containerd-shim-kata-v2']);

      const again = ok(await cli(node, 'install'), 'second install');
      assert.match(again.stdout, /applied 1 steps:\n +1\. check that containerd serves/);
      assert.deepEqual(await tree(node), complete, 'install twice = install once');

      ok(await cli(node, 'cleanup'), 'cleanup');
      assert.deepEqual(await tree(node), before, 'the node tree byte for byte as before');
      const gone = await criStatus(node.socket);
      for (const h of HANDLERS) assert.ok(!gone?.handlers.includes(h), `${h} no longer served`);

      const beforeReset = await node.mainPid();
      ok(await cli(node, 'reset'), 'reset');
      assert.notEqual(await node.mainPid(), beforeReset, 'reset restarted containerd.service');
      await waitContainerdAnswer(node.socket);
      assert.deepEqual(await tree(node), before, 'reset changes no file');
    });

    it('nydus as a real unit: ordered before and wanted by containerd.service; pulls through it; upgrade and cleanup restore the tree', async () => {
      const before = await tree(node);
      const first = ok(await cli(node, 'install', { nydus: true, extra: ['--json'] }), 'install with nydus');
      assert.ok(
        (JSON.parse(first.stdout) as { steps: { kind: string }[] }).steps.some(
          (s) => s.kind === 'waitSnapshotter',
        ),
      );
      const unit = await readFile(node.bed.at(`/etc/systemd/system/${NYDUS_UNIT}`), 'utf8');
      assert.match(unit, /^Before=containerd\.service$/m);
      assert.match(unit, /^WantedBy=containerd\.service$/m);
      assert.match(
        unit,
        new RegExp(
          `^ExecStart=/opt/kata/${NYDUS}/containerd-nydus-grpc --config /opt/kata/${NYDUS}/config-guest-pulling.toml`,
          'm',
        ),
      );
      const deps = (await node.bed.systemctl(['list-dependencies', '--plain', 'containerd.service'])).stdout;
      assert.match(deps, new RegExp(`^\\s*${NYDUS_UNIT.replaceAll('.', '\\.')}$`, 'm'), deps);
      const before_ = (await node.bed.systemctl(['show', '--property', 'Before', '--value', NYDUS_UNIT]))
        .stdout;
      assert.match(before_, /containerd\.service/);
      assert.equal((await node.bed.systemctl(['is-enabled', NYDUS_UNIT])).stdout.trim(), 'enabled');
      assert.equal((await node.bed.systemctl(['is-active', NYDUS_UNIT])).stdout.trim(), 'active');
      await pull(node, appRef);

      const upgrade = JSON.parse(
        ok(await cli(node, 'install', { nydus: true, extra: ['--json'] }), 'upgrade').stdout,
      ) as {
        snapshotters?: { decision: string }[];
      };
      assert.equal(upgrade.snapshotters?.[0]?.decision, 'wiped', JSON.stringify(upgrade.snapshotters));
      await pull(node, appRef);

      const cleanup = JSON.parse(
        ok(await cli(node, 'cleanup', { nydus: true, extra: ['--json'] }), 'cleanup').stdout,
      ) as {
        snapshotters?: { decision: string }[];
      };
      assert.equal(cleanup.snapshotters?.[0]?.decision, 'wiped', JSON.stringify(cleanup.snapshotters));
      assert.equal(existsSync(node.bed.at(`/var/lib/${NYDUS}`)), false, 'data dir wiped');
      const state = await node.bed.systemctl(['is-active', NYDUS_UNIT], { allowFail: true });
      assert.equal(state.stdout.trim(), 'inactive');
      assert.deepEqual(await tree(node), before, 'unit file, its wants link and every file of ours gone');
    });
  });
}

describe('systemd bed, containerd 2.1: killed after a step, install and cleanup converge (nydus included)', () => {
  let node: SystemdNode;
  before(async () => {
    node = await startSystemdNode('2.1');
  });
  after(async () => {
    await node?.bed.teardown();
  });

  it('install again reaches the complete state; cleanup after a partial install restores the node', async () => {
    const before = await tree(node);
    const plan = ok(await cli(node, 'install', { nydus: true, extra: ['--dry-run', '--json'] }), 'dry run');
    const steps = (JSON.parse(plan.stdout) as { steps: { kind: string; path?: string }[] }).steps;
    ok(await cli(node, 'install', { nydus: true }), 'install');
    const complete = await tree(node);
    ok(await cli(node, 'cleanup', { nydus: true }), 'cleanup');
    assert.deepEqual(await tree(node), before);

    const dataDir = node.bed.at(`/var/lib/${NYDUS}`);
    for (const n of crashPoints(steps).map(String)) {
      const crashed = await cli(node, 'install', {
        nydus: true,
        env: { KATA_DEPLOY_TEST_CRASH_AFTER_STEP: n },
      });
      assert.equal(crashed.signal, 'SIGKILL', `install was killed after step ${n}: ${crashed.stderr}`);
      ok(await cli(node, 'install', { nydus: true }), `install after a crash at step ${n}`);
      assert.deepEqual(await tree(node), complete, `converged after a crash at step ${n}`);
      ok(await cli(node, 'cleanup', { nydus: true }), 'cleanup');
      assert.deepEqual(await tree(node), before, `cleanup after a crash at step ${n}`);
      assert.equal(existsSync(dataDir), false);

      const partial = await cli(node, 'install', {
        nydus: true,
        env: { KATA_DEPLOY_TEST_CRASH_AFTER_STEP: n },
      });
      assert.equal(
        partial.signal,
        'SIGKILL',
        `partial install killed after step ${n} (${partial.code}): ${partial.stderr}`,
      );
      const cleaned = JSON.parse(
        ok(
          await cli(node, 'cleanup', { nydus: true, extra: ['--json'] }),
          `cleanup of a partial install (step ${n})`,
        ).stdout,
      ) as { snapshotters?: { decision: string; reasons: string[] }[] };
      assert.deepEqual(await tree(node), before, `partial install up to step ${n} cleaned up`);
      // A data dir is kept only when cleanup says so (its evidence was incomplete), never silently.
      const kept = cleaned.snapshotters?.find((o) => o.decision === 'kept');
      assert.equal(existsSync(dataDir), kept !== undefined, JSON.stringify(cleaned.snapshotters));
      if (kept) process.stdout.write(`# step ${n}: data dir kept: ${kept.reasons.join('; ')}\n`);
    }
    const status = await criStatus(node.socket);
    assert.ok(status && !status.handlers.some((h) => h.startsWith('kata-')));
  });
});

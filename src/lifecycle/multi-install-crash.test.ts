/**
 * Two installs sharing containerd 2.1's config (A unsuffixed, B with MULTI_INSTALL_SUFFIX), one of them killed
 * after a step (as KATA_DEPLOY_TEST_CRASH_AFTER_STEP does) in every order of installs and cleanups, and picked up
 * again at once, after the other install's next run, or (an install) never, its cleanup taking it off. The node
 * must end byte for byte as it started, and no record either install keeps may lose the operator's original.
 *
 * Every step that is not a payload copy is a kill point (the first payload step stands for the others, which
 * only touch the install's own directory); a kill while the other install has no state, picked up at once, is
 * a single install's (lifecycle.test.ts) and left out. KATA_DEPLOY_TEST_EVERY_STEP=1 kills after every step,
 * takes those cases too, and adds a config with an imports list.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CONTAINERD_21,
  ORDERS,
  SHARED_ORIGIN,
  TwoInstalls,
  smallPayload,
  type Op,
} from '../../test/support/two-installs.js';
import type { Step } from './steps.js';

const EVERY_STEP = process.env['KATA_DEPLOY_TEST_EVERY_STEP'] === '1';
/** The configs where the two installs share an origin; with EVERY_STEP also one with an imports list. */
const CONFIGS: Record<string, string | undefined> = {
  ...SHARED_ORIGIN,
  ...(EVERY_STEP ? { 'an empty imports list': CONTAINERD_21 } : {}),
};

/**
 * A node has /var/lib: a cleanup killed right after removing its state leaves nothing to say that it created
 * /var/lib and /var on a bare root, only its own /var/lib/kata-deploy, which it removes by name.
 */
const NODE_DIRS = ['var/lib'];

type Resume = 'at once' | 'after the other install' | 'never';

/** The steps worth killing after: all but the payload copies into the install dir (the first one stands in). */
function killPoints(steps: readonly Step[]): number[] {
  const payload = (s: Step | undefined) =>
    s !== undefined &&
    'path' in s &&
    /^\/opt\/kata(-[a-z0-9-]+)?(\/|$)/.test(s.path) &&
    s.kind !== 'removeTree';
  return steps
    .map((_, i) => i + 1)
    .filter((n) => n < steps.length && steps[n - 1]!.kind !== 'probeCri')
    .filter((n) => EVERY_STEP || !payload(steps[n - 1]) || !payload(steps[n - 2]));
}

/** The ops after a kill of `order[k]`: the killed op run again where `resume` says, the rest as planned. */
function resumed(order: readonly Op[], k: number, resume: Resume): Op[] | undefined {
  const killed = order[k]!;
  const rest = order.slice(k + 1);
  if (resume === 'at once') return [killed, ...rest];
  if (resume === 'never') return killed.startsWith('install') ? rest : undefined;
  const which = killed.at(-1);
  const next = rest.findIndex((op) => op.at(-1) === which);
  const at = next === -1 ? rest.length : next;
  if (at === 0) return undefined; // the same as 'at once'
  return [...rest.slice(0, at), killed, ...rest.slice(at)];
}

let dir: string;
let node: TwoInstalls;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kd-multi-kill-'));
  await mkdir(join(dir, 'root'));
  const payload = await smallPayload(join(dir, 'payload'));
  node = new TwoInstalls(join(dir, 'root'), { payload, shims: 'qemu' });
});
after(async () => rm(dir, { recursive: true, force: true }));

describe('two installs on containerd 2.1, one killed after a step', () => {
  for (const [name, text] of Object.entries(CONFIGS)) {
    it(`${name}: every order, every kill point, every way of picking up ends where it started`, async (t) => {
      let cases = 0;
      for (const order of ORDERS) {
        for (const [k, killed] of order.entries()) {
          await node.layOut(text, NODE_DIRS);
          const start = await node.snapshot();
          for (const op of order.slice(0, k)) await node.run(op);
          const points = killPoints(await node.plan(killed));
          // Killed while the other install has no state and picked up at once: a single install (lifecycle.test.ts).
          const alone = (await node.state(killed.endsWith('A') ? 'B' : 'A')) === undefined;
          for (const resume of ['at once', 'after the other install', 'never'] as const) {
            const then = resumed(order, k, resume);
            if (then === undefined || (alone && resume === 'at once' && !EVERY_STEP)) continue;
            for (const n of points) {
              const where = `${order.join(', ')}: ${killed} killed after step ${n}, resumed ${resume}`;
              await node.layOut(text, NODE_DIRS);
              for (const op of order.slice(0, k)) await node.run(op);
              await node.crash(killed, n);
              assert.deepEqual(await node.originProblems(text), [], `${where}: after the kill`);
              for (const op of then) {
                await node.run(op);
                assert.deepEqual(await node.originProblems(text), [], `${where}: after ${op}`);
              }
              assert.equal(await node.config(), text, where);
              assert.deepEqual(await node.snapshot(), start, where);
              cases++;
            }
          }
        }
      }
      assert.ok(cases >= 200, `${cases} cases`);
      t.diagnostic(`${cases} cases`);
    });
  }
});

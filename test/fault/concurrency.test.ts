/**
 * Fault suite, concurrent runs on one node (real containerd 2.1): installs, cleanups and resets started at the
 * same moment are serialised by the node lock; every one succeeds, and the node ends as one run of the last
 * command would leave it, with one tracked containerd and no temp file.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { assertOk, disposeNodes, startNode, UNIT, type FaultNode } from './node.js';
import { announceSeed, rngFor } from './seed.js';

announceSeed('concurrency');
const rng = rngFor('concurrency');
after(disposeNodes);

async function node(): Promise<{ node: FaultNode; clean: Record<string, string> }> {
  const n = await startNode({ version: '2.1' });
  return { node: n, clean: await n.snapshot() };
}

async function assertHealthy(n: FaultNode, what: string): Promise<void> {
  assert.deepEqual(await n.temps(), [], `${what}: temp files left`);
  const running = await n.containerds();
  const recorded = (await n.host.readText(`/run/kata-deploy/services/${UNIT}.pid`))?.split(' ')[0];
  assert.deepEqual(running.map(String), [recorded], `${what}: one containerd, the recorded one`);
  assert.equal(await n.host.lstat('/run/lock/kata-deploy.lock'), undefined, `${what}: the lock is released`);
}

describe('concurrent runs on one node', () => {
  it('three installs at once: all succeed, the node is installed once', async () => {
    const { node: n, clean } = await node();
    const results = await Promise.all([1, 2, 3].map(() => n.cli('install')));
    results.forEach((r, i) => assertOk(r, `install #${i + 1}`));
    assert.ok(
      results.filter((r) => /applied 1 steps/.test(r.stdout)).length >= 2,
      'the later ones found it done',
    );
    const installed = await n.snapshot();
    assertOk(await n.cli('install'), 'one more install');
    assert.deepEqual(await n.snapshot(), installed);
    await assertHealthy(n, 'after three installs');
    const cleanups = await Promise.all([1, 2, 3].map(() => n.cli('cleanup')));
    cleanups.forEach((r, i) => assertOk(r, `cleanup #${i + 1}`));
    assert.deepEqual(await n.snapshot(), clean, 'three cleanups at once restore the root');
    await assertHealthy(n, 'after three cleanups');
    await n.dispose();
  });

  it('installs, cleanups and a reset at once, in a seeded order: each succeeds; a last cleanup restores', async () => {
    const { node: n, clean } = await node();
    const actions = rng.sample(['install', 'cleanup', 'install', 'reset', 'cleanup', 'install'], 6);
    const order = [...actions].sort(() => rng.next() - 0.5);
    const results = await Promise.all(order.map((a) => n.cli(a)));
    results.forEach((r, i) => assertOk(r, `${order[i]} (${order.join(', ')})`));
    await assertHealthy(n, `after ${order.join(', ')}`);
    assertOk(await n.cli('cleanup'), 'cleanup');
    assert.deepEqual(await n.snapshot(), clean);
    await assertHealthy(n, 'after the last cleanup');
    await n.dispose();
  });
});

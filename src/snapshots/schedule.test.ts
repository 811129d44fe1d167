import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planNamespace } from './plan.js';
import { removeLeafFirst, type RemoveOutcome } from './schedule.js';
import type { ObservedNamespace } from './types.js';

function plan(chains: number, depth: number) {
  const records: ObservedNamespace['records'] = new Map();
  for (let c = 0; c < chains; c++) {
    for (let d = 0; d < depth; d++) {
      const key = `c${c}-${d}`;
      records.set(key, {
        key,
        parent: d > 0 ? `c${c}-${d - 1}` : undefined,
        children: undefined,
        stale: false,
      });
    }
  }
  return planNamespace({ namespace: 'default', records, containers: [], tasks: new Map() });
}

const tick = () => new Promise((r) => setImmediate(r));

test('a parent is never removed before its children and concurrency stays bounded', async () => {
  const p = plan(6, 5);
  const gone = new Set<string>();
  let inFlight = 0;
  let peak = 0;
  const result = await removeLeafFirst(
    p,
    async (key) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      const [chain, depth] = key.slice(1).split('-').map(Number) as [number, number];
      const child = `c${chain}-${depth + 1}`;
      assert.ok(depth === 4 || gone.has(child), `${key} started before ${child}`);
      await tick();
      gone.add(key);
      inFlight--;
      return { kind: depth % 2 === 0 ? 'removed' : 'gone' };
    },
    3,
  );
  assert.equal(gone.size, 30);
  assert.ok(peak <= 3 && peak >= 2, `peak concurrency ${peak}`);
  assert.equal(result.removed + result.gone, 30);
  assert.equal(result.gone, 12);
});

test('a failed removal holds back every ancestor with the reason', async () => {
  const p = plan(2, 3);
  const result = await removeLeafFirst(
    p,
    async (key): Promise<RemoveOutcome> =>
      key === 'c0-1' ? { kind: 'failed', reason: { kind: 'error', message: 'boom' } } : { kind: 'removed' },
    4,
  );
  assert.equal(result.removed, 4);
  assert.deepEqual(result.remaining, [
    { key: 'c0-0', reason: { kind: 'parent-of-remaining', child: 'c0-1' } },
    { key: 'c0-1', reason: { kind: 'error', message: 'boom' } },
  ]);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { planNamespace } from './plan.js';
import type { ObservedNamespace, SnapshotRecordView } from './types.js';

function chain(prefix: string, n: number, base?: string): SnapshotRecordView[] {
  const out: SnapshotRecordView[] = [];
  let parent = base;
  for (let i = 0; i < n; i++) {
    const key = `${prefix}${i}`;
    out.push({ key, parent, children: undefined, stale: false });
    parent = key;
  }
  return out;
}

function observed(records: SnapshotRecordView[], extra: Partial<ObservedNamespace> = {}): ObservedNamespace {
  return {
    namespace: 'default',
    records: new Map(records.map((r) => [r.key, r])),
    containers: [],
    tasks: new Map(),
    ...extra,
  };
}

test('a linear chain is removed top first', () => {
  const plan = planNamespace(observed(chain('l', 4)));
  assert.deepEqual(plan.removalOrder, ['l3', 'l2', 'l1', 'l0']);
  assert.deepEqual(plan.kept, []);
});

test('shared lower layers go only after every chain above them', () => {
  const shared = chain('s', 2);
  const plan = planNamespace(observed([...shared, ...chain('a', 3, 's1'), ...chain('b', 2, 's1')]));
  const at = (k: string) => plan.removalOrder.indexOf(k);
  assert.equal(plan.removalOrder.length, 7);
  assert.ok(at('s1') > at('a0') && at('s1') > at('b0'));
  assert.ok(at('s0') > at('s1'));
});

test('a container with a running task keeps its chain and only its chain', () => {
  const records = [
    ...chain('s', 2),
    ...chain('a', 2, 's1'),
    ...chain('b', 2, 's1'),
    { key: 'ctr-1', parent: 'a1', children: undefined, stale: false },
  ];
  const plan = planNamespace(
    observed(records, {
      containers: [{ id: 'ctr-1', snapshotter: 'nydus', snapshotKey: 'ctr-1', image: 'img' }],
      tasks: new Map([['ctr-1', 'RUNNING']]),
    }),
  );
  assert.deepEqual(
    plan.kept.map((k) => [k.key, k.reason.kind]),
    [
      ['a0', 'parent-of-remaining'],
      ['a1', 'parent-of-remaining'],
      ['ctr-1', 'in-use'],
      ['s0', 'parent-of-remaining'],
      ['s1', 'parent-of-remaining'],
    ],
  );
  assert.deepEqual(plan.removalOrder, ['b1', 'b0']);
  assert.deepEqual(plan.deleteContainers, []);
  assert.deepEqual(plan.keptContainers, [{ id: 'ctr-1', taskStatus: 'RUNNING', snapshotKey: 'ctr-1' }]);
});

test('a container whose task is only created or paused is kept too; one without a task is deleted', () => {
  const plan = planNamespace(
    observed(chain('x', 1), {
      containers: [
        { id: 'created', snapshotter: 'nydus', snapshotKey: 'created', image: '' },
        { id: 'stopped', snapshotter: 'nydus', snapshotKey: 'stopped', image: '' },
        { id: 'paused', snapshotter: 'nydus', snapshotKey: 'paused', image: '' },
      ],
      tasks: new Map([
        ['created', 'CREATED'],
        ['paused', 'PAUSED'],
      ]),
    }),
  );
  assert.deepEqual(plan.deleteContainers, ['stopped']);
  assert.deepEqual(
    plan.keptContainers.map((c) => c.id),
    ['created', 'paused'],
  );
});

test('a dangling child link is planned for relinking before its record is removed', () => {
  const records = chain('d', 3);
  records[1] = { ...records[1]!, children: ['d2', 'swept-by-gc'] };
  const plan = planNamespace(observed(records));
  assert.deepEqual(plan.removalOrder, ['d2', 'd1', 'd0']);
  assert.deepEqual([...plan.relink], [['d1', ['swept-by-gc']]]);
  assert.deepEqual(plan.kept, []);
});

test('parent links that form a cycle are kept with an error instead of looping', () => {
  const plan = planNamespace(
    observed([
      { key: 'p', parent: 'q', children: undefined, stale: false },
      { key: 'q', parent: 'p', children: undefined, stale: false },
      { key: 'ok', parent: undefined, children: undefined, stale: false },
    ]),
  );
  assert.deepEqual(plan.removalOrder, ['ok']);
  assert.deepEqual(
    plan.kept.map((k) => k.reason.kind),
    ['error', 'error'],
  );
});

const forest = fc
  .array(fc.record({ parentIndex: fc.option(fc.nat(), { nil: undefined }), running: fc.boolean() }), {
    maxLength: 60,
  })
  .map((nodes) =>
    nodes.map((n, i) => ({
      key: `k${i}`,
      parent: n.parentIndex !== undefined && i > 0 ? `k${n.parentIndex % i}` : undefined,
      running: n.running && i % 7 === 0,
    })),
  );

test('property: every plan is leaf first, complete, and never removes what a running container needs', () => {
  fc.assert(
    fc.property(forest, (nodes) => {
      const records = nodes.map((n) => ({ key: n.key, parent: n.parent, children: undefined, stale: false }));
      const running = nodes.filter((n) => n.running);
      const plan = planNamespace(
        observed(records, {
          containers: running.map((n) => ({
            id: `c-${n.key}`,
            snapshotter: 'nydus',
            snapshotKey: n.key,
            image: '',
          })),
          tasks: new Map(running.map((n) => [`c-${n.key}`, 'RUNNING' as const])),
        }),
      );
      const position = new Map(plan.removalOrder.map((k, i) => [k, i]));
      const kept = new Set(plan.kept.map((k) => k.key));
      assert.equal(position.size + kept.size, records.length);
      for (const r of records) {
        if (r.parent !== undefined && position.has(r.key)) {
          if (position.has(r.parent)) assert.ok((position.get(r.parent) ?? -1) > (position.get(r.key) ?? 0));
        }
        if (kept.has(r.key) && r.parent !== undefined)
          assert.ok(kept.has(r.parent), `${r.parent} must stay under ${r.key}`);
      }
      for (const n of running) assert.ok(kept.has(n.key));
    }),
  );
});

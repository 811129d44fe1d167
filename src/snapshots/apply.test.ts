import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NotFoundError, type ContainerdClient } from '../containerd/api/index.js';
import { applyNamespacePlan, removeStaleGcLeases } from './apply.js';
import type { NamespacePlan } from './types.js';

const notFound = () => new NotFoundError('not found', 'tasks.Get', 5);

const plan = (deleteContainers: string[]): NamespacePlan => ({
  namespace: 'k8s.io',
  deleteContainers,
  removalOrder: [],
  parents: new Map(),
  relink: new Map(),
  leaves: [],
  sweepable: [],
  keptContainers: [],
  kept: [],
});

describe('applying a namespace plan', () => {
  it('checks for a task right before each container delete, not once for the batch', async () => {
    const calls: string[] = [];
    const started = new Set<string>();
    const client = {
      tasks: {
        get: async (_ns: string, id: string) => {
          calls.push(`task? ${id}`);
          if (!started.has(id)) throw notFound();
          return { containerId: id, id: '', pid: 1, status: 'RUNNING', exitStatus: 0 };
        },
      },
      containers: {
        delete: async (_ns: string, id: string) => {
          calls.push(`delete ${id}`);
          // Something starts a task in the next container while we delete this one.
          if (id === 'a') started.add('b');
        },
      },
      snapshots: { remove: async () => undefined },
    } as unknown as ContainerdClient;
    const result = await applyNamespacePlan(client, plan(['a', 'b', 'c']), {
      snapshotter: 'n',
      concurrency: 2,
    });
    assert.deepEqual(result.containersRemoved, ['a', 'c']);
    assert.deepEqual(
      result.containersGainedTask.map((c) => [c.id, c.taskStatus]),
      [['b', 'RUNNING']],
    );
    assert.deepEqual(calls, [
      'task? a',
      'task? b',
      'task? c',
      'task? a',
      'delete a',
      'task? b',
      'task? c',
      'delete c',
    ]);
  });
});

describe('GC leases of killed runs', () => {
  it('are deleted when older than any wait of ours; young ones and foreign ones stay', async () => {
    const now = Date.parse('2026-12-01T12:00:00Z');
    const deleted: string[] = [];
    const lease = (id: string, ageMs: number) => ({ id, createdAt: new Date(now - ageMs), labels: {} });
    const client = {
      leases: {
        list: async () => [
          lease('kata-deploy.gc.123.1', 3_600_000),
          lease('kata-deploy.gc.456.2', 5_000),
          lease('operator-lease', 3_600_000),
        ],
        delete: async (_ns: string, id: string) => void deleted.push(id),
      },
    } as unknown as ContainerdClient;
    const removed = await removeStaleGcLeases(client, ['k8s.io'], { debug: () => undefined }, now);
    assert.equal(removed, 1);
    assert.deepEqual(deleted, ['kata-deploy.gc.123.1']);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MetaDbView, NamespaceView, SnapshotRecord } from '../containerd/metadb/index.js';
import { notSeen, seen } from '../evidence/index.js';
import type { BackendInventory } from './backend.js';
import { diagnose } from './doctor.js';

const known = (keys: Iterable<string>): BackendInventory => ({
  known: true,
  keys: new Set(keys),
  source: 'test',
  evidence: seen('backend-inventory', 'backend', 'test'),
});
const unknown = (reason: string): BackendInventory => ({
  known: false,
  reason,
  evidence: notSeen('backend-inventory', 'backend', reason),
});

const record = (key: string, seq: number, parent?: string, children: string[] = []): SnapshotRecord => ({
  key,
  backendKey: `k8s.io/${seq}/${key}`,
  parent,
  children,
  labels: {},
});

function view(records: SnapshotRecord[]): MetaDbView {
  const ns: NamespaceView = {
    name: 'k8s.io',
    labels: {},
    snapshotters: new Map([['nydus', { sequence: 9n, snapshots: new Map(records.map((r) => [r.key, r])) }]]),
    containers: new Map(),
    images: new Map([['img:1', { name: 'img:1', target: { digest: 'sha256:m' }, labels: {} }]]),
    contentLabels: new Map<string, Record<string, string>>([
      ['sha256:m', { 'containerd.io/gc.ref.content.config': 'sha256:c' }],
      ['sha256:c', { 'containerd.io/gc.ref.snapshot.nydus': 'top' }],
    ]),
    leases: new Map(),
  };
  return { path: '/meta.db', txid: 1n, dbVersion: 4, namespaces: [ns] };
}

const chain = [record('bottom', 1, undefined, ['top']), record('top', 2, 'bottom')];

test('records the backend lacks are stale; the image holding them is named and reported broken', () => {
  const report = diagnose(view(chain), 'nydus', known(['k8s.io/1/bottom']));
  assert.equal(report.healthy, false);
  assert.deepEqual(
    report.staleRecords.map((s) => [s.key, s.heldBy]),
    [['top', [{ kind: 'image', name: 'img:1' }]]],
  );
  assert.deepEqual(report.brokenImages, [{ namespace: 'k8s.io', name: 'img:1', staleKeys: ['top'] }]);
});

test('orphaned backend snapshots are reported but do not make the snapshotter unhealthy', () => {
  const keys = new Set(['k8s.io/1/bottom', 'k8s.io/2/top', 'k8s.io/7/leftover']);
  const report = diagnose(view(chain), 'nydus', known(keys));
  assert.deepEqual(report.orphanedBackendSnapshots, ['k8s.io/7/leftover']);
  assert.equal(report.healthy, true);
});

test('a dangling child link is found with a remedy that fits whether its record is stale', () => {
  const records = [record('bottom', 1, undefined, ['top', 'gone']), record('top', 2, 'bottom')];
  const healthy = diagnose(view(records), 'nydus', known(['k8s.io/1/bottom', 'k8s.io/2/top']));
  assert.deepEqual(
    healthy.danglingLinks.map((d) => [d.key, d.missingChildren, d.stale]),
    [['bottom', ['gone'], false]],
  );
  assert.match(healthy.danglingLinks[0]?.remedy ?? '', /re-creates each missing child/);
  const stale = diagnose(view(records), 'nydus', known([]));
  assert.match(stale.danglingLinks[0]?.remedy ?? '', /--drop-images/);
});

test('without the backend inventory the verdict is unknown, never healthy', () => {
  const report = diagnose(view(chain), 'nydus', unknown('socket down'));
  assert.equal(report.healthy, 'unknown');
  assert.deepEqual(report.staleRecords, []);
  assert.ok(report.missing.some((m) => m.includes('socket down')));
});

test('a meta.db whose path was not found cannot make the snapshotter healthy', () => {
  const report = diagnose(
    view(chain),
    'nydus',
    known(['k8s.io/1/bottom', 'k8s.io/2/top']),
    notSeen('meta-db', 'meta.db', 'defaulted path'),
  );
  assert.equal(report.healthy, 'unknown');
  assert.ok(report.missing.some((m) => m.includes('defaulted path')));
});

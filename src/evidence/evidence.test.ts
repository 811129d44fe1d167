import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  describeMissing,
  failed,
  isComplete,
  judge,
  notSeen,
  seen,
  type Evidence,
  type EvidenceKind,
} from './evidence.js';

const KINDS: EvidenceKind[] = ['meta-db', 'namespaces', 'tasks', 'backend-inventory', 'snapshotter-loaded'];

test('a verdict is positive only when every required kind was recorded and seen', () => {
  const all = KINDS.map((k) => seen(k, k, 'read'));
  assert.equal(judge(all, KINDS, []), 'positive');
  assert.equal(judge(all, KINDS, ['a record stays']), 'negative');
  assert.equal(judge(all.slice(1), KINDS, []), 'unknown', 'a kind nobody recorded is missing');
  assert.equal(judge([...all, notSeen('meta-db', 'meta.db', 'defaulted path')], KINDS, []), 'unknown');
  assert.equal(judge([...all, failed('tasks', 'tasks in k8s.io', 'deadline')], KINDS, ['x']), 'unknown');
});

test('missing sources are described with their subject, cause and hint', () => {
  const lines = describeMissing(
    [
      seen('meta-db', 'meta.db', '/var/lib/containerd/…'),
      notSeen('namespaces', 'namespace default', 'not examined', 'pass no --namespace to cover all'),
    ],
    ['meta-db', 'namespaces', 'tasks'],
  );
  assert.deepEqual(lines, [
    'namespace default not seen: not examined; pass no --namespace to cover all',
    'tasks: no source was examined',
  ]);
});

test('property: any source not seen, or any required kind unrecorded, blocks a positive verdict', () => {
  const status = fc.constantFrom('seen', 'not-seen', 'failed');
  const evidence = fc.array(
    fc.record({ kind: fc.constantFrom(...KINDS), status, subject: fc.string(), detail: fc.string() }),
    { maxLength: 12 },
  );
  fc.assert(
    fc.property(
      evidence,
      fc.subarray(KINDS),
      fc.array(fc.string(), { maxLength: 2 }),
      (ev, required, against) => {
        const verdict = judge(ev as Evidence[], required, against);
        const allSeen = ev.every((e) => e.status === 'seen');
        const covered = required.every((k) => ev.some((e) => e.kind === k));
        if (verdict === 'positive') assert.ok(allSeen && covered && against.length === 0);
        if (!allSeen || !covered) assert.equal(verdict, 'unknown');
        assert.equal(isComplete(ev as Evidence[], required), allSeen && covered);
      },
    ),
    { numRuns: 2000 },
  );
});

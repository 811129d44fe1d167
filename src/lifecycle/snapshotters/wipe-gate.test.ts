import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { failed, notSeen, seen, type Evidence } from '../../evidence/index.js';
import { confirmWipe, decideWipe, type WipeGateInput } from './wipe-gate.js';

const engineEvidence: Evidence[] = [
  seen('snapshotter-loaded', 'snapshotter n', 'loaded'),
  seen('meta-db', 'meta.db', 'reported by containerd'),
  seen('namespaces', 'namespaces', 'all'),
  seen('tasks', 'namespace k8s.io', 'listed'),
];
const base: WipeGateInput = {
  snapshotter: 'n',
  dataDir: '/var/lib/n',
  socket: '/run/n/s.sock',
  metaDb: { evidence: seen('meta-db', 'meta.db', 'reported by containerd'), records: 0, namespaces: [] },
  snapshotterState: { state: 'answers' },
  containerdAnswers: true,
  engine: { clean: true, reasons: [], evidence: engineEvidence },
  doctor: {
    healthy: true,
    records: 0,
    stale: 0,
    evidence: [seen('meta-db', 'meta.db', 'x'), seen('backend-inventory', 'inventory', 'socket')],
  },
  heldBy: [],
  tasks: seen('tasks', 'tasks', 'listed'),
};

describe('the wipe gate', () => {
  it('is wipe-safe with every source seen, through the engine or through meta.db alone', () => {
    assert.equal(decideWipe(base).decision, 'wipe-safe');
    const stopped = {
      ...base,
      snapshotterState: { state: 'stopped', detail: 'no socket' } as const,
      engine: undefined,
      doctor: undefined,
    };
    assert.equal(decideWipe(stopped).decision, 'wipe-safe');
    assert.equal(
      decideWipe({ ...base, containerdAnswers: false, engine: undefined, doctor: undefined }).decision,
      'wipe-safe',
    );
  });

  it('keeps the dir when any one source is taken away', () => {
    const lost: [string, WipeGateInput][] = [
      [
        'meta.db not found',
        { ...base, metaDb: { ...base.metaDb, evidence: notSeen('meta-db', 'meta.db', 'not found') } },
      ],
      [
        'meta.db unreadable',
        {
          ...base,
          metaDb: { evidence: failed('meta-db', 'meta.db', 'EIO'), records: undefined, namespaces: [] },
        },
      ],
      [
        'snapshotter unresponsive',
        { ...base, snapshotterState: { state: 'unresponsive', detail: 'deadline' } },
      ],
      ['engine did not run', { ...base, engine: undefined }],
      [
        'engine unknown',
        {
          ...base,
          engine: {
            clean: 'unknown',
            reasons: ['x'],
            evidence: [...engineEvidence.slice(1), failed('snapshotter-loaded', 's', 'x')],
          },
        },
      ],
      [
        'a namespace not examined',
        {
          ...base,
          engine: {
            ...base.engine!,
            evidence: [...engineEvidence, notSeen('namespaces', 'namespace default', 'not examined')],
          },
        },
      ],
      ['doctor did not run', { ...base, doctor: undefined }],
      [
        'backend inventory unknown',
        {
          ...base,
          doctor: { ...base.doctor!, evidence: [notSeen('backend-inventory', 'inventory', 'root missing')] },
        },
      ],
      [
        'tasks failed (meta.db path)',
        {
          ...base,
          containerdAnswers: false,
          engine: undefined,
          doctor: undefined,
          tasks: failed('tasks', 'tasks', 'deadline'),
        },
      ],
    ];
    for (const [why, input] of lost) {
      const outcome = decideWipe(input);
      assert.equal(outcome.decision, 'keep', why);
      assert.ok(outcome.reasons.length > 0, why);
    }
  });

  it('decides on meta.db alone for a snapshotter containerd has not loaded', () => {
    const notLoaded = { ...base, loadedInContainerd: false, engine: undefined, doctor: undefined };
    assert.equal(decideWipe(notLoaded).decision, 'wipe-safe');
    const withRecords = { ...notLoaded, metaDb: { ...base.metaDb, records: 1, namespaces: ['k8s.io (1)'] } };
    assert.equal(decideWipe(withRecords).decision, 'keep');
    const unread = {
      ...notLoaded,
      metaDb: { ...base.metaDb, evidence: notSeen('meta-db', 'meta.db', 'not found') },
    };
    assert.equal(decideWipe(unread).decision, 'keep');
  });

  it('keeps the dir when something seen speaks against it', () => {
    assert.equal(
      decideWipe({ ...base, metaDb: { ...base.metaDb, records: 2, namespaces: ['k8s.io (2)'] } }).decision,
      'keep',
    );
    assert.equal(
      decideWipe({ ...base, engine: { ...base.engine!, clean: false, reasons: ['busy stays'] } }).decision,
      'keep',
    );
    assert.equal(decideWipe({ ...base, doctor: { ...base.doctor!, stale: 1, records: 1 } }).decision, 'keep');
  });

  it('confirms the wipe only on this run’s verdict, a stopped snapshotter and meta.db still empty', () => {
    const verdict = decideWipe(base);
    const stopped = { state: 'stopped', detail: 'nothing listens' } as const;
    const ok = {
      snapshotter: 'n',
      socket: base.socket,
      verdict,
      snapshotterState: stopped,
      metaDb: base.metaDb,
    };
    assert.equal(confirmWipe(ok).proceed, true);
    assert.equal(confirmWipe({ ...ok, verdict: undefined }).proceed, false);
    assert.equal(confirmWipe({ ...ok, snapshotterState: { state: 'answers' } }).proceed, false);
    assert.equal(
      confirmWipe({ ...ok, snapshotterState: { state: 'unresponsive', detail: 'x' } }).proceed,
      false,
    );
    assert.equal(
      confirmWipe({ ...ok, metaDb: { ...base.metaDb, records: 1, namespaces: ['k8s.io (1)'] } }).proceed,
      false,
    );
    assert.equal(
      confirmWipe({ ...ok, metaDb: { ...base.metaDb, evidence: notSeen('meta-db', 'meta.db', 'gone') } })
        .proceed,
      false,
    );
  });
});

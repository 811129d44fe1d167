/**
 * Property test over lost evidence. A random node (records per namespace, containers and their tasks, the
 * snapshotter's own inventory, whether containerd and the snapshotter run, the runtime flavour) is observed
 * through sources that may each be available, unavailable, failed, or pointed at the wrong place (a wrong
 * meta.db or data dir reads as empty, but the locator could not vouch for it). Every pure gate is fed what
 * such an observation yields. Safety: a gate is never positive unless every source it needs was seen, and a
 * positive gate is never wrong about the real node.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { MetaDbView, NamespaceView, SnapshotRecord } from '../containerd/metadb/index.js';
import { confirmWipe, decideWipe, type WipeGateInput } from '../lifecycle/snapshotters/wipe-gate.js';
import type { BackendInventory } from '../snapshots/backend.js';
import { cleanVerdict, namespaceEvidence } from '../snapshots/clean-verdict.js';
import { diagnose } from '../snapshots/doctor.js';
import { failed, notSeen, seen, type Evidence, type EvidenceKind } from './evidence.js';

const RUNS = Number(process.env['KATA_DEPLOY_PROPERTY_RUNS'] ?? 4000);
const SN = 'nydus-for-kata-tee';

type Access = 'available' | 'unavailable' | 'failed' | 'wrong-place';
const access = fc.constantFrom<Access>('available', 'available', 'unavailable', 'failed', 'wrong-place');

const nodeArb = fc.record({
  runtime: fc.constantFrom('containerd', 'k3s', 'rke2-agent', 'k0s-worker', 'microk8s'),
  namespaces: fc.uniqueArray(
    fc.record({
      name: fc.constantFrom('default', 'k8s.io', 'moby', 'team-a'),
      records: fc.nat({ max: 4 }),
      /** Of the records, how many the backend really lacks (stale). */
      stale: fc.nat({ max: 4 }),
      containers: fc.array(fc.constantFrom('RUNNING', 'STOPPED', 'PAUSED', 'none'), { maxLength: 2 }),
    }),
    { selector: (n) => n.name, maxLength: 3 },
  ),
  containerdRuns: fc.boolean(),
  /** containerd has the snapshotter loaded (false: an install killed before containerd's config named it). */
  loaded: fc.boolean(),
  snapshotter: fc.constantFrom('running', 'stopped', 'hung'),
  /** What the cleanup engine managed to remove (it never removes records under a task). */
  engineRemovesAll: fc.boolean(),
  sources: fc.record({
    metaDb: access,
    namespaces: access,
    tasks: access,
    backend: access,
    loaded: access,
    examinedSubset: fc.boolean(),
  }),
});
type Node = typeof nodeArb extends fc.Arbitrary<infer T> ? T : never;

const ev = (kind: EvidenceKind, how: Access, subject: string): Evidence =>
  how === 'available'
    ? seen(kind, subject, 'read')
    : how === 'failed'
      ? failed(kind, subject, 'the call failed')
      : notSeen(kind, subject, how === 'wrong-place' ? 'the path was defaulted, not found' : 'not read');

const totalRecords = (node: Node): number => node.namespaces.reduce((n, ns) => n + ns.records, 0);
const busy = (node: Node): boolean =>
  node.namespaces.some((ns) => ns.records > 0 && ns.containers.some((t) => t !== 'none'));

/** What meta.db says through its source: the truth, or (wrong place) an empty database elsewhere. */
function metaReading(node: Node, records: number) {
  const how = node.sources.metaDb;
  const evidence = ev('meta-db', how, 'meta.db');
  if (how === 'available') return { evidence, records, namespaces: records > 0 ? ['k8s.io (n)'] : [] };
  return { evidence, records: how === 'wrong-place' ? 0 : undefined, namespaces: [] };
}

/** The records left after the engine: everything under a task stays; the rest goes when it succeeds. */
function recordsAfterEngine(node: Node): number {
  if (!node.engineRemovesAll) return totalRecords(node);
  return node.namespaces.reduce((n, ns) => n + (ns.containers.some((t) => t !== 'none') ? ns.records : 0), 0);
}

function engineOf(node: Node) {
  const examined = node.sources.examinedSubset
    ? node.namespaces.slice(0, 1).map((n) => n.name)
    : node.namespaces.map((n) => n.name);
  const evidence: Evidence[] = [
    ev('snapshotter-loaded', node.sources.loaded, 'snapshotter'),
    ev('meta-db', node.sources.metaDb, 'meta.db'),
    ...namespaceEvidence({
      snapshotter: SN,
      examined,
      recordsByNamespace:
        node.sources.metaDb === 'available'
          ? new Map(node.namespaces.map((n) => [n.name, n.records]))
          : node.sources.metaDb === 'wrong-place'
            ? new Map()
            : undefined,
      scope: node.sources.examinedSubset
        ? 'subset'
        : node.sources.namespaces === 'available'
          ? 'all'
          : 'fallback',
    }),
    ev('tasks', node.sources.tasks, 'tasks'),
  ];
  const left = recordsAfterEngine(node);
  const visibleLeft = node.sources.metaDb === 'wrong-place' ? 0 : left;
  const stays = visibleLeft > 0 ? [`${visibleLeft} records stay`] : [];
  return { verdict: cleanVerdict(evidence, stays), evidence, left };
}

function gateInput(node: Node): { input: WipeGateInput; truthLeft: number } {
  const state =
    node.snapshotter === 'running'
      ? ({ state: 'answers' } as const)
      : node.snapshotter === 'stopped'
        ? ({ state: 'stopped', detail: 'nothing listens' } as const)
        : ({ state: 'unresponsive', detail: 'deadline' } as const);
  const viaEngine = state.state === 'answers' && node.containerdRuns && node.loaded;
  const engine = viaEngine ? engineOf(node) : undefined;
  const truthLeft = engine ? engine.left : totalRecords(node);
  const doctor =
    engine?.verdict.clean === true
      ? {
          healthy: true as const,
          records: node.sources.metaDb === 'wrong-place' ? 0 : truthLeft,
          stale: 0,
          evidence: [
            ev('meta-db', node.sources.metaDb, 'meta.db'),
            ev('backend-inventory', node.sources.backend, 'inventory'),
          ],
        }
      : undefined;
  return {
    truthLeft,
    input: {
      snapshotter: SN,
      dataDir: `/var/lib/${SN}`,
      socket: `/run/${SN}/containerd-nydus-grpc.sock`,
      metaDb: metaReading(node, truthLeft),
      snapshotterState: state,
      containerdAnswers: node.containerdRuns,
      loadedInContainerd: node.containerdRuns ? node.loaded : undefined,
      engine: engine && {
        clean: engine.verdict.clean,
        reasons: engine.verdict.reasons,
        evidence: engine.evidence,
      },
      doctor,
      heldBy: [],
      tasks: ev('tasks', node.containerdRuns ? node.sources.tasks : 'unavailable', 'tasks'),
    },
  };
}

const allSeen = (evidence: readonly Evidence[] | undefined): boolean =>
  (evidence ?? []).every((e) => e.status === 'seen');

test(`property: the wipe gate is never positive on lost evidence or a wrong path (${RUNS} nodes)`, () => {
  let positives = 0;
  fc.assert(
    fc.property(nodeArb, (node) => {
      const { input, truthLeft } = gateInput(node);
      const outcome = decideWipe(input);
      if (outcome.decision !== 'wipe-safe') {
        assert.ok(outcome.reasons.length > 0, 'a kept dir says why');
        return;
      }
      positives++;
      assert.equal(truthLeft, 0, 'a positive verdict is never wrong about the node');
      assert.equal(input.metaDb.evidence.status, 'seen');
      assert.notEqual(input.snapshotterState.state, 'unresponsive');
      assert.ok(allSeen(outcome.evidence), 'every source the verdict rests on was seen');
      if (input.engine) {
        assert.equal(input.engine.clean, true);
        assert.ok(allSeen(input.engine.evidence) && allSeen(input.doctor?.evidence));
      } else assert.equal(input.tasks.status, 'seen');
      // And the confirmation after the stop holds only with the snapshotter positively stopped.
      for (const after of ['answers', 'stopped', 'unresponsive'] as const) {
        const state =
          after === 'answers' ? ({ state: after } as const) : ({ state: after, detail: 'x' } as const);
        const c = confirmWipe({
          snapshotter: SN,
          socket: input.socket,
          verdict: outcome,
          snapshotterState: state,
          metaDb: input.metaDb,
        });
        assert.equal(c.proceed, after === 'stopped');
      }
    }),
    { numRuns: RUNS },
  );
  assert.ok(positives > 0, 'the gate can say yes at all: with every source seen and nothing left');
});

test(`property: clean is never true unless every namespace holding records was examined and seen (${RUNS} nodes)`, () => {
  fc.assert(
    fc.property(nodeArb, (node) => {
      const { verdict, evidence, left } = engineOf(node);
      if (verdict.clean !== true) return;
      assert.equal(left, 0);
      assert.ok(allSeen(evidence));
      assert.equal(node.sources.metaDb, 'available');
      if (node.sources.examinedSubset)
        assert.ok(
          node.namespaces.slice(1).every((ns) => ns.records === 0),
          'unexamined namespaces hold nothing',
        );
      assert.ok(!busy(node) || left === 0);
    }),
    { numRuns: RUNS },
  );
});

function doctorView(node: Node): { view: MetaDbView; backendKeys: Set<string> } {
  const backendKeys = new Set<string>();
  const namespaces: NamespaceView[] = node.namespaces.map((ns) => {
    const snapshots = new Map<string, SnapshotRecord>();
    for (let i = 0; i < ns.records; i++) {
      const key = `sha256:${ns.name}-${i}`;
      const record: SnapshotRecord = {
        key,
        backendKey: `${ns.name}/${i + 1}/${key}`,
        ...(i > 0 ? { parent: `sha256:${ns.name}-${i - 1}` } : {}),
        children: i + 1 < ns.records ? [`sha256:${ns.name}-${i + 1}`] : [],
        labels: {},
      };
      snapshots.set(key, record);
      if (i >= ns.stale) backendKeys.add(record.backendKey);
    }
    return {
      name: ns.name,
      labels: {},
      snapshotters: new Map([[SN, { sequence: 9n, snapshots }]]),
      containers: new Map(),
      images: new Map(),
      contentLabels: new Map(),
      leases: new Map(),
    };
  });
  return { view: { path: '/meta.db', txid: 1n, dbVersion: 4, namespaces }, backendKeys };
}

test(`property: the doctor calls a snapshotter healthy only on both sources seen, and never wrongly (${RUNS} nodes)`, () => {
  fc.assert(
    fc.property(nodeArb, (node) => {
      const { view, backendKeys } = doctorView(node);
      const how = node.sources.backend;
      const backend: BackendInventory =
        how === 'available'
          ? {
              known: true,
              keys: backendKeys,
              source: 'socket',
              evidence: seen('backend-inventory', 'inventory', 'socket'),
            }
          : { known: false, reason: 'down', evidence: ev('backend-inventory', how, 'inventory') };
      const report = diagnose(view, SN, backend, ev('meta-db', node.sources.metaDb, 'meta.db'));
      const reallyStale = node.namespaces.reduce((n, ns) => n + Math.min(ns.stale, ns.records), 0);
      if (report.healthy === true) {
        assert.equal(reallyStale, 0);
        assert.equal(how, 'available');
        assert.equal(node.sources.metaDb, 'available');
      }
      if (report.healthy === false) assert.ok(report.staleRecords.length + report.danglingLinks.length > 0);
      if (report.staleRecords.length > 0)
        assert.equal(how, 'available', 'stale is said only against the real inventory');
    }),
    { numRuns: RUNS },
  );
});

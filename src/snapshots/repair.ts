/**
 * Repairs a split brain through containerd's API only: removes stale records (and the records built on
 * them) leaf first, deletes container records that point at them — never one with a task — and, when asked,
 * deletes the images whose chains are stale so they are pulled again. Remove is metadata-only, so this works
 * while the snapshotter is down; the backend's data and content blobs are never touched.
 */
import { NotFoundError, type ContainerdClient } from '../containerd/api/index.js';
import { readMetaDb, type MetaDbView, type NamespaceView } from '../containerd/metadb/index.js';
import type { Evidence } from '../evidence/index.js';
import { silentLogger, type Logger } from '../output/log.js';
import { applyNamespacePlan, relinkAndRemove } from './apply.js';
import type { BackendInventory } from './backend.js';
import { diagnose, type DoctorReport } from './doctor.js';
import { referencedKeys } from './holders.js';
import type { MetaRecordReader } from './observe.js';
import { planNamespace } from './plan.js';
import { settle } from './settle.js';
import type { NamespacePlan, ObservedNamespace, SnapshotRecordView } from './types.js';

export interface RepairOptions {
  snapshotter: string;
  metaDbPath: string;
  /** How meta.db's path was found; see diagnose. */
  metaDbEvidence?: Evidence | undefined;
  readBackend: () => Promise<BackendInventory>;
  dropImages?: boolean;
  dryRun?: boolean;
  concurrency?: number;
  log?: Logger;
}

export interface RepairResult {
  snapshotter: string;
  dryRun: boolean;
  before: DoctorReport;
  plan: NamespacePlan[];
  imagesDropped: string[];
  containersRemoved: string[];
  snapshotsRemoved: number;
  /** Dangling child links cleared on healthy records (the records themselves stay). */
  linksCleared: number;
  rounds: number;
  after: DoctorReport | undefined;
  /** True when the final doctor pass finds no stale record and no dangling link. */
  repaired: boolean;
}

/** Stale records plus every record built on one: a child of a stale parent cannot be mounted either. */
function brokenKeys(ns: NamespaceView, snapshotter: string, stale: Set<string>): Set<string> {
  const snapshots = ns.snapshotters.get(snapshotter)?.snapshots ?? new Map();
  const broken = new Set<string>();
  const isBroken = (key: string, seen = new Set<string>()): boolean => {
    if (broken.has(key) || stale.has(key)) return true;
    const parent = snapshots.get(key)?.parent;
    if (parent === undefined || seen.has(key)) return false;
    seen.add(key);
    return isBroken(parent, seen);
  };
  for (const key of snapshots.keys()) if (isBroken(key)) broken.add(key);
  return broken;
}

/** The repair's view of one namespace: only the broken records, with the containers that point at them. */
async function observeBroken(
  client: ContainerdClient,
  ns: NamespaceView,
  snapshotter: string,
  broken: Set<string>,
): Promise<ObservedNamespace> {
  const snapshots = ns.snapshotters.get(snapshotter)?.snapshots ?? new Map();
  const held = referencedKeys(ns, snapshotter);
  const records = new Map<string, SnapshotRecordView>();
  for (const key of broken) {
    const r = snapshots.get(key);
    if (r)
      records.set(key, {
        key,
        parent: r.parent,
        children: r.children,
        stale: true,
        referenced: held.has(key),
      });
  }
  const tasks = await client.tasks.list(ns.name);
  const containers = [...ns.containers.values()]
    .filter((c) => c.snapshotter === snapshotter && c.snapshotKey !== undefined && broken.has(c.snapshotKey))
    .map((c) => ({ id: c.id, snapshotter, snapshotKey: c.snapshotKey as string, image: c.image ?? '' }));
  return {
    namespace: ns.name,
    records,
    containers,
    tasks: new Map(tasks.map((t) => [t.containerId, t.status])),
  };
}

async function planAll(
  client: ContainerdClient,
  view: MetaDbView,
  report: DoctorReport,
  snapshotter: string,
) {
  const plans: NamespacePlan[] = [];
  for (const ns of view.namespaces) {
    const stale = new Set(report.staleRecords.filter((s) => s.namespace === ns.name).map((s) => s.key));
    const broken = brokenKeys(ns, snapshotter, stale);
    if (broken.size === 0) continue;
    plans.push(planNamespace(await observeBroken(client, ns, snapshotter, broken)));
  }
  return plans;
}

export async function repairSnapshots(
  client: ContainerdClient,
  options: RepairOptions,
): Promise<RepairResult> {
  const log = options.log ?? silentLogger;
  const doctor = async (): Promise<{ view: MetaDbView; report: DoctorReport }> => {
    const view = await readMetaDb(options.metaDbPath);
    return {
      view,
      report: diagnose(view, options.snapshotter, await options.readBackend(), options.metaDbEvidence),
    };
  };
  let { view, report } = await doctor();
  const before = report;
  const firstPlan = report.backend.known ? await planAll(client, view, report, options.snapshotter) : [];
  const result: RepairResult = {
    snapshotter: options.snapshotter,
    dryRun: options.dryRun === true,
    before,
    plan: firstPlan,
    imagesDropped: [],
    containersRemoved: [],
    snapshotsRemoved: 0,
    linksCleared: 0,
    rounds: 0,
    after: undefined,
    repaired: false,
  };
  if (options.dryRun || !report.backend.known) {
    result.repaired = report.healthy === true;
    return result;
  }

  if (options.dropImages) {
    for (const image of report.brokenImages) {
      try {
        await client.images.delete(image.namespace, image.name, { sync: true });
        result.imagesDropped.push(`${image.namespace}/${image.name}`);
      } catch (error) {
        if (!(error instanceof NotFoundError)) throw error;
      }
    }
    ({ view, report } = await doctor());
  }

  // A healthy record with a dangling link only needs the link cleared; it stays, and so does its image.
  for (const link of report.danglingLinks.filter((d) => !d.stale)) {
    try {
      result.linksCleared += await relinkAndRemove(
        client,
        link.namespace,
        options.snapshotter,
        link.key,
        link.missingChildren,
      );
    } catch (error) {
      log.warn(
        `${link.namespace}: cannot clear the dangling links of ${link.key}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  const readMeta: MetaRecordReader = async () => {
    const v = await readMetaDb(options.metaDbPath);
    return new Map(
      v.namespaces.map((ns) => [
        ns.name,
        new Map(
          [...(ns.snapshotters.get(options.snapshotter)?.snapshots ?? [])].map(([k, r]) => [
            k,
            { parent: r.parent, children: r.children, referenced: false },
          ]),
        ),
      ]),
    );
  };
  let plans = await planAll(client, view, report, options.snapshotter);
  while (plans.some((p) => p.leaves.length > 0 || p.deleteContainers.length > 0)) {
    result.rounds++;
    let progress = 0;
    for (const plan of plans) {
      const applied = await applyNamespacePlan(client, plan, {
        snapshotter: options.snapshotter,
        concurrency: options.concurrency ?? 8,
      });
      result.snapshotsRemoved += applied.removed;
      result.containersRemoved.push(...applied.containersRemoved.map((id) => `${plan.namespace}/${id}`));
      progress += applied.removed + applied.gone + applied.containersRemoved.length + applied.relinked;
      for (const failure of applied.remaining)
        log.warn(`${plan.namespace}: ${failure.key}: ${JSON.stringify(failure.reason)}`);
    }
    const expected = new Map(plans.map((p) => [p.namespace, p.sweepable ?? []]));
    await settle(client, expected, readMeta, { stallMs: 2_000 });
    ({ view, report } = await doctor());
    plans = await planAll(client, view, report, options.snapshotter);
    if (progress === 0) break;
  }
  ({ report } = await doctor());
  result.after = report;
  result.repaired = report.staleRecords.length === 0 && report.danglingLinks.length === 0;
  return result;
}

/**
 * The cleanup engine: removes every containerd record of one snapshotter that no running workload needs,
 * so the snapshotter's data can then be wiped without leaving containerd a record that points at nothing.
 *
 * Its promise is the verdict: `clean: true` only when a final enumeration that can see stale records
 * (meta.db) finds none left; `unknown` whenever something could not be listed. Callers wipe data only on true.
 * Rounds repeat (observe, plan, apply) until nothing is left to do or a round makes no progress.
 */
import type { ContainerdClient } from '../containerd/api/index.js';
import { UsageError } from '../errors/index.js';
import { watchFileChanges } from '../host/file-changes.js';
import { silentLogger, type Logger } from '../output/log.js';
import { noProgress, type Progress } from '../output/progress.js';
import { applyNamespacePlan } from './apply.js';
import { settle } from './settle.js';
import { observe, type MetaRecordReader, type Observation } from './observe.js';
import { describeReason, planNamespace } from './plan.js';
import type {
  CleanResult,
  CleanVerdict,
  NamespacePlan,
  NamespaceResult,
  RemainReason,
  RemainingSnapshot,
} from './types.js';

export const FALLBACK_NAMESPACES = ['k8s.io'];

export interface CleanOptions {
  snapshotter: string;
  /** Namespaces to clean; all of containerd's by default. */
  namespaces?: string[];
  dryRun?: boolean;
  /** Removals in flight at once. @default 8 */
  concurrency?: number;
  /** Reads meta.db's records; without it stale records stay invisible and the verdict cannot be true. */
  readMeta?: MetaRecordReader;
  metaDbPath?: string;
  log?: Logger;
  progress?: Progress;
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

async function resolveNamespaces(client: ContainerdClient, options: CleanOptions, log: Logger) {
  if (options.namespaces && options.namespaces.length > 0)
    return { names: options.namespaces, fallback: false };
  try {
    return { names: (await client.namespaces.list()).map((n) => n.name).sort(), fallback: false };
  } catch (error) {
    log.warn(
      `listing namespaces failed (${message(error)}); falling back to ${FALLBACK_NAMESPACES.join(', ')}`,
    );
    return { names: FALLBACK_NAMESPACES, fallback: true };
  }
}

function emptyResult(namespace: string): NamespaceResult {
  return {
    namespace,
    containersRemoved: [],
    snapshotsRemoved: 0,
    sweptByGc: 0,
    keptContainers: [],
    remaining: [],
  };
}

const hasWork = (plans: NamespacePlan[]): boolean =>
  plans.some((p) => p.removalOrder.length > 0 || p.deleteContainers.length > 0);

/** What stays after the last round, with the most specific reason known for each record. */
function remainingOf(plan: NamespacePlan, lastFailures: Map<string, RemainReason>): RemainingSnapshot[] {
  const stays: RemainingSnapshot[] = [...plan.kept];
  for (const key of plan.removalOrder) {
    const missing = plan.relink.get(key);
    const reason: RemainReason =
      lastFailures.get(key) ??
      (missing
        ? { kind: 'dangling-child-link', missingChildren: missing }
        : { kind: 'error', message: 'still present after the last round made no progress' });
    stays.push({ key, reason });
  }
  return stays.sort((a, b) => a.key.localeCompare(b.key));
}

export async function cleanSnapshots(client: ContainerdClient, options: CleanOptions): Promise<CleanResult> {
  const started = Date.now();
  const callsBefore = client.transport.calls;
  const log = options.log ?? silentLogger;
  const progress = options.progress ?? noProgress;
  const concurrency = options.concurrency ?? 8;
  const { names, fallback } = await resolveNamespaces(client, options, log);
  const results = new Map(names.map((n) => [n, emptyResult(n)]));
  const lastFailures = new Map<string, Map<string, RemainReason>>();

  let rounds = 0;
  let observation = await observe(client, options.snapshotter, names, options.readMeta);
  assertSnapshotterLoaded(observation, options.snapshotter);
  let plans = observation.namespaces.map(planNamespace);
  const firstPlans = plans;
  log.debug(`observed ${names.length} namespaces in ${Date.now() - started} ms`);

  // Lets each wait for containerd's GC end as soon as meta.db is written, instead of on a polling timer.
  const changes =
    !options.dryRun && options.readMeta && options.metaDbPath
      ? watchFileChanges(options.metaDbPath)
      : undefined;
  try {
    while (!options.dryRun && observation.listingErrors.length === 0 && hasWork(plans)) {
      rounds++;
      let progressMade = 0;
      let done = 0;
      const removedThisRound = new Map<string, number>();
      const total = plans.reduce((n, p) => n + p.removalOrder.length, 0);
      for (const plan of plans) {
        const result = results.get(plan.namespace) ?? emptyResult(plan.namespace);
        const applied = await applyNamespacePlan(client, plan, {
          snapshotter: options.snapshotter,
          concurrency,
          onRemoved: () =>
            progress.update(++done, total, `round ${rounds}: removing ${options.snapshotter} snapshots`),
        });
        result.snapshotsRemoved += applied.removed;
        removedThisRound.set(plan.namespace, applied.removed);
        result.containersRemoved.push(...applied.containersRemoved);
        lastFailures.set(plan.namespace, new Map(applied.remaining.map((r) => [r.key, r.reason])));
        // A container that gained a task forces a fresh plan: its chain must now stay.
        progressMade += applied.removed + applied.containersRemoved.length + applied.relinked;
        progressMade += applied.containersGainedTask.length;
        log.debug(
          `${plan.namespace}: round ${rounds}: removed ${applied.removed} (${applied.gone} already gone), ` +
            `relinked ${applied.relinked}, ${applied.remaining.length} failed`,
        );
      }
      progress.done();
      const leaves = new Map(plans.map((p) => [p.namespace, new Set(p.leaves)]));
      const expected = new Map(
        plans.map((p) => [
          p.namespace,
          p.sweepable ?? p.removalOrder.filter((k) => !leaves.get(p.namespace)?.has(k)),
        ]),
      );
      const settleStarted = Date.now();
      const settled = await settle(client, expected, options.readMeta, { changes });
      log.debug(
        `round ${rounds}: ${settled.ended === 'swept' ? "containerd's GC swept the rest" : 'waited for a full GC'} ` +
          `in ${Date.now() - settleStarted} ms, ${settled.reads} reads of meta.db (${Date.now() - started} ms so far)`,
      );
      const before = new Map(observation.namespaces.map((n) => [n.namespace, n.records.size]));
      observation = await observe(client, options.snapshotter, names, options.readMeta, settled.index);
      plans = observation.namespaces.map(planNamespace);
      for (const ns of observation.namespaces) {
        const result = results.get(ns.namespace);
        const vanished = (before.get(ns.namespace) ?? 0) - ns.records.size;
        if (!result) continue;
        // What left beyond our explicit removals is the GC's work.
        const swept = Math.max(0, vanished - (removedThisRound.get(ns.namespace) ?? 0));
        result.sweptByGc += swept;
        progressMade += swept;
      }
      if (progressMade === 0) break;
    }
  } finally {
    changes?.close();
  }

  for (const plan of plans) {
    const result = results.get(plan.namespace) ?? emptyResult(plan.namespace);
    result.remaining = remainingOf(plan, lastFailures.get(plan.namespace) ?? new Map());
    result.keptContainers = plan.keptContainers;
  }
  for (const error of observation.listingErrors) {
    const result = results.get(error.namespace) ?? emptyResult(error.namespace);
    result.listingError = error.message;
  }

  const { clean, reasons } = verdict(observation, [...results.values()], plans);
  return {
    snapshotter: options.snapshotter,
    clean,
    reasons,
    enumeration: observation.metaDbUsed ? 'metadb+api' : 'api',
    metaDbPath: options.metaDbPath,
    dryRun: options.dryRun === true,
    namespacesFallback: fallback,
    namespaces: [...results.values()],
    plan: options.dryRun ? firstPlans : undefined,
    rounds,
    apiCalls: client.transport.calls - callsBefore,
    durationMs: Date.now() - started,
  };
}

function verdict(
  observation: Observation,
  results: NamespaceResult[],
  plans: NamespacePlan[],
): { clean: CleanVerdict; reasons: string[] } {
  const leftovers: string[] = [];
  for (const result of results) {
    for (const r of result.remaining)
      leftovers.push(`${result.namespace}: ${r.key} stays: ${describeReason(r.reason)}`);
    for (const c of result.keptContainers) {
      leftovers.push(`${result.namespace}: container ${c.id} kept (task ${c.taskStatus})`);
    }
  }
  for (const plan of plans) {
    for (const id of plan.deleteContainers)
      leftovers.push(`${plan.namespace}: container ${id} still present`);
  }
  const unknown = observation.listingErrors.map(
    (e) => `listing namespace ${e.namespace} failed: ${e.message}`,
  );
  if (unknown.length === 0 && leftovers.length > 0) return { clean: false, reasons: leftovers };
  if (!observation.metaDbUsed) {
    unknown.push(
      observation.metaDbError
        ? `meta.db could not be read (${observation.metaDbError}); containerd's List hides stale records, so an empty listing proves nothing`
        : "meta.db was not read (give --meta-db); containerd's List hides stale records, so an empty listing proves nothing",
    );
  }
  if (unknown.length > 0) return { clean: 'unknown', reasons: [...unknown, ...leftovers] };
  return { clean: true, reasons: [] };
}

/** An unknown snapshotter is a usage error, not an unknown state: nothing could ever be cleaned. */
function assertSnapshotterLoaded(observation: Observation, snapshotter: string): void {
  const notLoaded = observation.listingErrors.find((e) => e.message.includes('snapshotter not loaded'));
  if (notLoaded) {
    throw new UsageError(
      `--snapshotter: containerd has no snapshotter "${snapshotter}" (${notLoaded.message})`,
      {
        input: '--snapshotter',
        hint: 'see `kata-deploy containerd info` for the snapshotters containerd loaded',
      },
    );
  }
}

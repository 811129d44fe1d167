/**
 * The cleanup engine: removes every containerd record of one snapshotter that no running workload needs,
 * so the snapshotter's data can then be wiped without leaving containerd a record that points at nothing.
 *
 * Its promise is the verdict: `clean: true` only when a final enumeration that can see stale records
 * (meta.db) finds none left; `unknown` whenever something could not be listed. Callers wipe data only on true.
 */
import {
  ContainerdError,
  FailedPreconditionError,
  NotFoundError,
  UnavailableError,
  type ContainerdClient,
} from '../containerd/api/index.js';
import { UsageError } from '../errors/index.js';
import { silentLogger, type Logger } from '../output/log.js';
import { noProgress, type Progress } from '../output/progress.js';
import { observe, type MetaRecordReader, type Observation } from './observe.js';
import { describeReason, planNamespace } from './plan.js';
import { removeLeafFirst, type RemoveOutcome } from './schedule.js';
import type { CleanResult, CleanVerdict, NamespacePlan, NamespaceResult } from './types.js';

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

function classifyRemoveError(error: unknown): RemoveOutcome {
  if (error instanceof NotFoundError) return { kind: 'gone' };
  if (error instanceof UnavailableError)
    return { kind: 'failed', reason: { kind: 'backend-unreachable', message: error.message } };
  if (error instanceof FailedPreconditionError || error instanceof ContainerdError) {
    return { kind: 'failed', reason: { kind: 'error', message: error.message } };
  }
  throw error;
}

async function deleteContainers(
  client: ContainerdClient,
  plan: NamespacePlan,
  result: NamespaceResult,
  log: Logger,
) {
  for (const id of plan.deleteContainers) {
    // A task may have started since the listing; containerd would delete the record under it.
    try {
      const task = await client.tasks.get(plan.namespace, id);
      result.keptContainers.push({ id, taskStatus: task.status, snapshotKey: '' });
      log.info(`${plan.namespace}: container ${id} gained a task (${task.status}); keeping it`);
      continue;
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
    try {
      await client.containers.delete(plan.namespace, id);
      result.containersRemoved.push(id);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
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

function unknownReasons(observation: Observation): string[] {
  const reasons = observation.listingErrors.map(
    (e) => `listing namespace ${e.namespace} failed: ${e.message}`,
  );
  if (!observation.metaDbUsed) {
    reasons.push(
      observation.metaDbError
        ? `meta.db could not be read (${observation.metaDbError}); containerd's List hides stale records, so an empty listing proves nothing`
        : `meta.db was not read (give --meta-db); containerd's List hides stale records, so an empty listing proves nothing`,
    );
  }
  return reasons;
}

export async function cleanSnapshots(client: ContainerdClient, options: CleanOptions): Promise<CleanResult> {
  const started = Date.now();
  const callsBefore = client.transport.calls;
  const log = options.log ?? silentLogger;
  const progress = options.progress ?? noProgress;
  const concurrency = options.concurrency ?? 8;
  const { names, fallback } = await resolveNamespaces(client, options, log);
  const results = new Map(names.map((n) => [n, emptyResult(n)]));

  let rounds = 0;
  let observation = await observe(client, options.snapshotter, names, options.readMeta);
  assertSnapshotterLoaded(observation, options.snapshotter);
  let plans = observation.namespaces.map(planNamespace);
  const firstPlans = plans;

  while (!options.dryRun && observation.listingErrors.length === 0 && hasWork(plans)) {
    rounds++;
    let progressMade = 0;
    const total = plans.reduce((n, p) => n + p.removalOrder.length, 0);
    let done = 0;
    for (const plan of plans) {
      const result = results.get(plan.namespace) ?? emptyResult(plan.namespace);
      const containersBefore = result.containersRemoved.length;
      await deleteContainers(client, plan, result, log);
      const outcome = await removeLeafFirst(
        plan,
        async (key) => {
          try {
            await client.snapshots.remove(plan.namespace, options.snapshotter, key);
            return { kind: 'removed' };
          } catch (error) {
            return classifyRemoveError(error);
          }
        },
        concurrency,
        () => progress.update(++done, total, `round ${rounds}: removing ${options.snapshotter} snapshots`),
      );
      result.snapshotsRemoved += outcome.removed;
      result.sweptByGc += outcome.gone;
      progressMade += outcome.removed + outcome.gone + result.containersRemoved.length - containersBefore;
      log.debug(`${plan.namespace}: round ${rounds} removed ${outcome.removed}, swept by GC ${outcome.gone}`);
    }
    progress.done();
    observation = await observe(client, options.snapshotter, names, options.readMeta);
    plans = observation.namespaces.map(planNamespace);
    if (progressMade === 0) break;
  }

  for (const plan of plans) {
    const result = results.get(plan.namespace) ?? emptyResult(plan.namespace);
    result.remaining = plan.kept.concat(
      plan.removalOrder
        .filter((k) => !plan.kept.some((r) => r.key === k))
        .map((key) => ({
          key,
          reason: { kind: 'error' as const, message: 'still present after the last round made no progress' },
        })),
    );
    result.keptContainers = plan.keptContainers;
  }
  for (const error of observation.listingErrors) {
    const result = results.get(error.namespace) ?? emptyResult(error.namespace);
    result.listingError = error.message;
  }

  const { clean, reasons } = verdict(observation, plans);
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

function hasWork(plans: NamespacePlan[]): boolean {
  return plans.some((p) => p.removalOrder.length > 0 || p.deleteContainers.length > 0);
}

function verdict(
  observation: Observation,
  plans: NamespacePlan[],
): { clean: CleanVerdict; reasons: string[] } {
  const leftovers: string[] = [];
  for (const plan of plans) {
    for (const kept of plan.kept)
      leftovers.push(`${plan.namespace}: ${kept.key} stays: ${describeReason(kept.reason)}`);
    for (const key of plan.removalOrder)
      if (!plan.kept.some((k) => k.key === key)) leftovers.push(`${plan.namespace}: ${key} still present`);
    for (const id of plan.deleteContainers)
      leftovers.push(`${plan.namespace}: container ${id} still present`);
    for (const c of plan.keptContainers)
      leftovers.push(`${plan.namespace}: container ${c.id} kept (task ${c.taskStatus})`);
  }
  if (leftovers.length > 0 && observation.listingErrors.length === 0)
    return { clean: false, reasons: leftovers };
  const unknown = unknownReasons(observation);
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

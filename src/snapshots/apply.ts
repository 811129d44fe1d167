/**
 * Executes one round of a namespace's plan through containerd's API. Order matters:
 * 1. re-confirm that every container to delete still has no task (containerd's server would delete the
 *    record under a running task, and its snapshot would follow);
 * 2. remove the plan's leaves, clearing dangling child links first. Only the leaves: an image holds just the
 *    top of its chain, so once the top is gone containerd's GC sweeps the rest of the chain in one write
 *    transaction, where removing each record would cost one each (and wait behind the GC's backend work);
 * 3. delete the container records, after their snapshots: deleting a record first would let the GC sweep its
 *    snapshot and leave the image's top layer with a dangling child link.
 * What the GC leaves (records something else still holds) becomes the next round's leaves.
 */
import {
  AlreadyExistsError,
  ContainerdError,
  NotFoundError,
  UnavailableError,
  type ContainerdClient,
} from '../containerd/api/index.js';
import { removeLeafFirst, type RemoveOutcome, type ScheduleResult } from './schedule.js';
import type { KeptContainer, NamespacePlan } from './types.js';

/** A collection may delete a lot of backend data; give it longer than an ordinary call. */
const GC_TIMEOUT_MS = 120_000;
const GC_LEASE_PREFIX = 'kata-deploy.gc.';
/** Older than any collection we wait for: a lease of ours this old belongs to a run that was killed. */
const STALE_LEASE_MS = 2 * GC_TIMEOUT_MS;

export interface ApplyResult extends ScheduleResult {
  containersRemoved: string[];
  /** Containers that gained a task since the listing; the namespace must be planned again. */
  containersGainedTask: KeptContainer[];
  relinked: number;
}

export interface ApplyOptions {
  snapshotter: string;
  concurrency: number;
  onRemoved?: (key: string) => void;
}

function failed(error: unknown): RemoveOutcome {
  if (error instanceof NotFoundError) return { kind: 'gone' };
  if (error instanceof UnavailableError) {
    return { kind: 'failed', reason: { kind: 'backend-unreachable', message: error.message } };
  }
  if (error instanceof ContainerdError)
    return { kind: 'failed', reason: { kind: 'error', message: error.message } };
  throw error;
}

/**
 * Asks containerd for a garbage collection now and resolves when it is complete, backend cleanup included.
 * A lease deleted with `sync` does that: the scheduler runs at once, even inside the pause it keeps after
 * each collection (49 times the average GC time by default).
 */
export async function collectGarbage(
  client: ContainerdClient,
  namespace: string,
  signal?: AbortSignal,
): Promise<void> {
  const id = `${GC_LEASE_PREFIX}${process.pid}.${Date.now()}`;
  await client.leases.create(namespace, id);
  try {
    await client.leases.delete(namespace, id, { sync: true, timeoutMs: GC_TIMEOUT_MS, signal });
  } catch (error) {
    // A cancelled or timed-out wait may leave the lease behind; delete it without waiting for the GC.
    await client.leases.delete(namespace, id).catch((e: unknown) => {
      if (!(e instanceof NotFoundError)) throw e;
    });
    throw error;
  }
}

/** Deletes GC-trigger leases that killed runs left behind (they hold nothing, but they are ours). */
export async function removeStaleGcLeases(
  client: ContainerdClient,
  namespaces: readonly string[],
  log: { debug(message: string): void },
  now = Date.now(),
): Promise<number> {
  let removed = 0;
  for (const namespace of namespaces) {
    const leases = await client.leases.list(namespace).catch(() => []);
    for (const lease of leases) {
      if (!lease.id.startsWith(GC_LEASE_PREFIX)) continue;
      if (lease.createdAt === undefined || now - lease.createdAt.getTime() < STALE_LEASE_MS) continue;
      await client.leases.delete(namespace, lease.id).then(
        () => removed++,
        (error: unknown) => log.debug(`could not delete the stale lease ${lease.id}: ${String(error)}`),
      );
    }
  }
  return removed;
}

/**
 * Clears a dangling child link: re-creating the missing child puts a real record behind the link, and
 * removing that record through the API unlinks it from the parent, which containerd's GC never does.
 */
export async function relinkAndRemove(
  client: ContainerdClient,
  namespace: string,
  snapshotter: string,
  parent: string,
  missing: string[],
): Promise<number> {
  let cleared = 0;
  for (const child of missing) {
    try {
      await client.snapshots.prepare(namespace, snapshotter, child, parent, { 'kata-deploy/relink': 'true' });
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
    }
    await client.snapshots.remove(namespace, snapshotter, child);
    cleared++;
  }
  return cleared;
}

async function confirmNoTask(client: ContainerdClient, plan: NamespacePlan): Promise<KeptContainer[]> {
  const gained: KeptContainer[] = [];
  for (const id of plan.deleteContainers) {
    try {
      const task = await client.tasks.get(plan.namespace, id);
      gained.push({ id, taskStatus: task.status, snapshotKey: '' });
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }
  return gained;
}

export async function applyNamespacePlan(
  client: ContainerdClient,
  plan: NamespacePlan,
  options: ApplyOptions,
): Promise<ApplyResult> {
  const { namespace } = plan;
  const gained = await confirmNoTask(client, plan);
  if (gained.length > 0) {
    return {
      removed: 0,
      gone: 0,
      remaining: [],
      containersRemoved: [],
      containersGainedTask: gained,
      relinked: 0,
    };
  }
  let relinked = 0;
  const outcome = await removeLeafFirst(
    { removalOrder: plan.leaves, parents: new Map() },
    async (key) => {
      try {
        const missing = plan.relink.get(key);
        if (missing) relinked += await relinkAndRemove(client, namespace, options.snapshotter, key, missing);
        await client.snapshots.remove(namespace, options.snapshotter, key);
        return { kind: 'removed' };
      } catch (error) {
        return failed(error);
      }
    },
    options.concurrency,
    (key) => options.onRemoved?.(key),
  );
  const containersRemoved: string[] = [];
  const containersGainedTask: KeptContainer[] = [];
  for (const id of plan.deleteContainers) {
    // Checked again right before each delete: a task started since the plan (or since the last delete)
    // keeps its container. containerd itself would delete the record under a running task.
    const [task] = await confirmNoTask(client, { ...plan, deleteContainers: [id] });
    if (task !== undefined) {
      containersGainedTask.push(task);
      continue;
    }
    try {
      await client.containers.delete(namespace, id);
      containersRemoved.push(id);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
    }
  }
  return { ...outcome, containersRemoved, containersGainedTask, relinked };
}

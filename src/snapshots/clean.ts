/**
 * The cleanup engine: removes every containerd record of one snapshotter that no running workload needs,
 * so the snapshotter's data can then be wiped without leaving containerd a record that points at nothing.
 *
 * Its promise is the verdict: `clean: true` only when a final enumeration that can see stale records
 * (meta.db) finds none left; `unknown` whenever something could not be listed. Callers wipe data only on true.
 * Rounds repeat (observe, plan, apply) until nothing is left to do or a round makes no progress.
 */
import type { ContainerdClient } from '../containerd/api/index.js';
import { SNAPSHOTTER_PLUGIN_TYPE } from '../containerd/info.js';
import { UsageError, errorMessage } from '../errors/index.js';
import { failed, notSeen, seen, type Evidence } from '../evidence/index.js';
import { watchFileChanges } from '../host/file-changes.js';
import { silentLogger, type Logger } from '../output/log.js';
import { noProgress, type Progress } from '../output/progress.js';
import { applyNamespacePlan, removeStaleGcLeases } from './apply.js';
import { cleanVerdict, leftovers, namespaceEvidence } from './clean-verdict.js';
import { settle } from './settle.js';
import { observe, type MetaRecordReader, type Observation } from './observe.js';
import { planNamespace } from './plan.js';
import type {
  CleanResult,
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
  metaDbPath?: string | undefined;
  /** How meta.db's path was found (the locator's evidence); a reader without it counts as given by the caller. */
  metaDbEvidence?: Evidence | undefined;
  /** The whole run's deadline; rounds stop once it has passed and the verdict says so. @default 600000 */
  deadlineMs?: number;
  log?: Logger;
  progress?: Progress;
}

export const DEFAULT_CLEAN_DEADLINE_MS = 10 * 60_000;

interface NamespaceChoice {
  names: string[];
  scope: 'all' | 'subset' | 'fallback';
  listingError?: string;
}

async function resolveNamespaces(
  client: ContainerdClient,
  options: CleanOptions,
  log: Logger,
): Promise<NamespaceChoice> {
  if (options.namespaces && options.namespaces.length > 0)
    return { names: [...new Set(options.namespaces)].sort(), scope: 'subset' };
  try {
    return { names: (await client.namespaces.list()).map((n) => n.name).sort(), scope: 'all' };
  } catch (error) {
    log.warn(
      `listing namespaces failed (${errorMessage(error)}); using meta.db's namespaces and ${FALLBACK_NAMESPACES.join(', ')}`,
    );
    return { names: [...FALLBACK_NAMESPACES], scope: 'fallback', listingError: errorMessage(error) };
  }
}

/**
 * The snapshotter must be one containerd loaded: a name it does not have can never be cleaned, and without
 * this check it would read as "nothing left" (an unknown name has no records). Introspection that fails is
 * not a usage error, only evidence not seen.
 */
export async function snapshotterLoaded(client: ContainerdClient, snapshotter: string): Promise<Evidence> {
  let plugins;
  try {
    plugins = await client.introspection.plugins([`type==${SNAPSHOTTER_PLUGIN_TYPE}`]);
  } catch (error) {
    return failed(
      'snapshotter-loaded',
      `snapshotter ${snapshotter}`,
      `containerd's introspection failed: ${errorMessage(error)}`,
    );
  }
  const plugin = plugins.find((p) => p.id === snapshotter);
  if (plugin === undefined || plugin.initError !== undefined) {
    const loaded = plugins
      .filter((p) => p.initError === undefined)
      .map((p) => p.id)
      .sort();
    throw new UsageError(
      `--snapshotter: containerd has no snapshotter "${snapshotter}" loaded` +
        (plugin?.initError ? ` (it failed to load: ${plugin.initError.message})` : '') +
        `; loaded: ${loaded.join(', ') || 'none'}`,
      {
        input: '--snapshotter',
        hint: 'pick one of the loaded snapshotters (`kata-deploy containerd info` lists them)',
      },
    );
  }
  return seen(
    'snapshotter-loaded',
    `snapshotter ${snapshotter}`,
    `loaded in containerd${plugin.exports['address'] ? ` (proxy plugin on ${plugin.exports['address']})` : ''}`,
  );
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
  const deadline = started + (options.deadlineMs ?? DEFAULT_CLEAN_DEADLINE_MS);
  const callsBefore = client.transport.calls;
  const log = options.log ?? silentLogger;
  const progress = options.progress ?? noProgress;
  const concurrency = options.concurrency ?? 8;
  const loaded = await snapshotterLoaded(client, options.snapshotter);
  const choice = await resolveNamespaces(client, options, log);
  let names = choice.names;

  let observation = await observe(client, options.snapshotter, names, options.readMeta);
  // Without a subset, every namespace meta.db holds records in is examined, listed by containerd or not.
  const unlisted = [...(observation.recordsByNamespace ?? [])]
    .filter(([ns, n]) => n > 0 && !names.includes(ns))
    .map(([ns]) => ns);
  if (choice.scope !== 'subset' && unlisted.length > 0) {
    names = [...names, ...unlisted].sort();
    observation = await observe(client, options.snapshotter, names, options.readMeta);
  }
  const results = new Map(names.map((n) => [n, emptyResult(n)]));
  const lastFailures = new Map<string, Map<string, RemainReason>>();
  let rounds = 0;
  let stoppedAtDeadline = false;
  let plans = observation.namespaces.map(planNamespace);
  const firstPlans = plans;
  log.debug(`observed ${names.length} namespaces in ${Date.now() - started} ms`);

  // Lets each wait for containerd's GC end as soon as meta.db is written, instead of on a polling timer.
  const changes =
    !options.dryRun && options.readMeta && options.metaDbPath
      ? watchFileChanges(options.metaDbPath)
      : undefined;
  try {
    if (!options.dryRun && observation.listingErrors.length === 0 && hasWork(plans))
      await removeStaleGcLeases(client, names, log);
    while (!options.dryRun && observation.listingErrors.length === 0 && hasWork(plans)) {
      if (Date.now() >= deadline) {
        stoppedAtDeadline = true;
        break;
      }
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
      const settled = await settle(client, expected, options.readMeta, {
        changes,
        stallMs: Math.max(0, Math.min(5_000, deadline - Date.now())),
      });
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

  const evidence = gatherEvidence(options, observation, loaded, choice, names);
  const stays = leftovers([...results.values()], plans);
  if (stoppedAtDeadline)
    stays.push(
      `stopped at the deadline (${Math.round((options.deadlineMs ?? DEFAULT_CLEAN_DEADLINE_MS) / 1000)} s) with work left`,
    );
  const { clean, reasons, missing } = cleanVerdict(evidence, stays);
  return {
    snapshotter: options.snapshotter,
    clean,
    reasons,
    missing,
    evidence,
    enumeration: observation.metaDbUsed ? 'metadb+api' : 'api',
    metaDbPath: options.metaDbPath,
    dryRun: options.dryRun === true,
    namespacesFallback: choice.scope === 'fallback',
    namespaces: [...results.values()],
    plan: options.dryRun ? firstPlans : undefined,
    rounds,
    apiCalls: client.transport.calls - callsBefore,
    durationMs: Date.now() - started,
  };
}

function gatherEvidence(
  options: CleanOptions,
  observation: Observation,
  loaded: Evidence,
  choice: NamespaceChoice,
  examined: readonly string[],
): Evidence[] {
  const metaDb: Evidence = !options.readMeta
    ? options.metaDbEvidence !== undefined && options.metaDbEvidence.status !== 'seen'
      ? options.metaDbEvidence
      : notSeen(
          'meta-db',
          'meta.db',
          "not read; containerd's List hides stale records, so an empty listing proves nothing",
          'give --meta-db',
        )
    : !observation.metaDbUsed
      ? failed('meta-db', 'meta.db', `could not be read: ${observation.metaDbError ?? 'unknown error'}`)
      : (options.metaDbEvidence ??
        seen('meta-db', 'meta.db', `${options.metaDbPath ?? 'read'} (given by the caller)`));
  const tasks = examined.map((ns) => {
    const error = observation.listingErrors.find((e) => e.namespace === ns);
    return error
      ? failed(
          'tasks',
          `namespace ${ns}`,
          `listing its containers, tasks and snapshots failed: ${error.message}`,
        )
      : seen('tasks', `namespace ${ns}`, 'containers and tasks listed');
  });
  if (tasks.length === 0) tasks.push(seen('tasks', 'containers and tasks', 'no namespace to list'));
  const namespaces = namespaceEvidence({
    snapshotter: options.snapshotter,
    examined,
    recordsByNamespace: observation.metaDbUsed ? observation.recordsByNamespace : undefined,
    scope: choice.scope,
    listingError: choice.listingError,
  });
  return [loaded, metaDb, ...namespaces, ...tasks];
}

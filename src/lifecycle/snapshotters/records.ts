/**
 * The two gated steps around a snapshotter's data dir. `decide` runs while the snapshotter still runs: the
 * cleanup engine removes containerd's records of it that no workload needs and its verdict, confirmed by a
 * doctor pass, says whether the data dir may go. When the snapshotter (or containerd) does not answer, meta.db
 * read from disk decides: zero records or nothing. `wipe` acts on that verdict only, checks meta.db once more
 * now that the snapshotter is stopped, unmounts below the dir and removes it. Nothing is ever wiped on a guess.
 */
import { existsSync } from 'node:fs';
import { ContainerdClient } from '../../containerd/api/index.js';
import { findMetaDbPath, readMetaDb, type MetaDbView } from '../../containerd/metadb/index.js';
import type { Host } from '../../host/index.js';
import { seenFromHere } from '../../host/paths.js';
import type { Names } from '../../names/index.js';
import type { Logger } from '../../output/log.js';
import { listBackendOverGrpc, readBackendInventory } from '../../snapshots/backend.js';
import { cleanSnapshots } from '../../snapshots/clean.js';
import { diagnose } from '../../snapshots/doctor.js';
import { metaDbPathFromIntrospection, metaRecordReader } from '../../snapshots/metadb-source.js';
import type { HeldBy, SnapshotterOutcome } from './outcome.js';

export interface RecordsContext {
  readonly host: Host;
  readonly names: Names;
  readonly log: Logger;
}

interface Target {
  readonly snapshotter: string;
  readonly socket: string;
  readonly dataDir: string;
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Whether the snapshotter itself answers on its socket (a listing; an empty store answers too). */
export async function snapshotterAnswers(socket: string, timeoutMs = 5_000): Promise<boolean> {
  if (!existsSync(socket)) return false;
  try {
    await listBackendOverGrpc(socket, timeoutMs);
    return true;
  } catch {
    return false;
  }
}

async function connectContainerd(ctx: RecordsContext): Promise<ContainerdClient | undefined> {
  try {
    return await ContainerdClient.connect({ socket: ctx.host.path(ctx.names.containerd.socket) });
  } catch (error) {
    ctx.log.debug(`containerd does not answer: ${message(error)}`);
    return undefined;
  }
}

/**
 * meta.db as this process sees it. containerd reports a node path (joined with the host root); a sandbox
 * containerd configured with paths already under the host root reports one that exists as it is.
 */
function resolveUnderRoot(host: Host, reported: string): string | undefined {
  const here = seenFromHere(reported, host.root);
  return existsSync(here) ? here : undefined;
}

export async function locateMetaDb(
  ctx: RecordsContext,
  client: ContainerdClient | undefined,
): Promise<string | undefined> {
  if (client !== undefined) {
    try {
      const reported = await metaDbPathFromIntrospection(client, '/');
      if (reported !== undefined) return resolveUnderRoot(ctx.host, reported);
    } catch (error) {
      ctx.log.debug(`introspection did not name meta.db: ${message(error)}`);
    }
  }
  const found = await findMetaDbPath({
    configPath: ctx.host.path(ctx.names.containerd.configFile),
    hostRoot: ctx.host.root,
  });
  return resolveUnderRoot(ctx.host, found.path);
}

/** Records of `snapshotter` in meta.db and the containers whose snapshots they are. */
function recordsIn(view: MetaDbView, snapshotter: string) {
  let records = 0;
  const containers: { namespace: string; id: string }[] = [];
  const namespaces: string[] = [];
  for (const ns of view.namespaces) {
    const n = ns.snapshotters.get(snapshotter)?.snapshots.size ?? 0;
    if (n > 0) namespaces.push(`${ns.name} (${n})`);
    records += n;
    for (const c of ns.containers.values())
      if (c.snapshotter === snapshotter) containers.push({ namespace: ns.name, id: c.id });
  }
  return { records, containers, namespaces };
}

async function taskStates(
  client: ContainerdClient | undefined,
  containers: readonly { namespace: string; id: string }[],
): Promise<HeldBy[]> {
  const out: HeldBy[] = [];
  const byNs = new Map<string, Map<string, string>>();
  for (const c of containers) {
    let tasks = byNs.get(c.namespace);
    if (tasks === undefined && client !== undefined) {
      const listed = await client.tasks.list(c.namespace).catch(() => undefined);
      tasks = new Map((listed ?? []).map((t) => [t.containerId, t.status]));
      byNs.set(c.namespace, tasks);
    }
    out.push({
      namespace: c.namespace,
      container: c.id,
      taskStatus: client === undefined ? 'unknown' : (tasks?.get(c.id) ?? 'none'),
    });
  }
  return out;
}

/** The meta.db-only verdict: wipe-safe exactly when meta.db holds zero records of the snapshotter. */
async function decideFromMetaDb(
  ctx: RecordsContext,
  target: Target,
  client: ContainerdClient | undefined,
  metaDbPath: string | undefined,
  why: string,
): Promise<SnapshotterOutcome> {
  const base = { snapshotter: target.snapshotter, dataDir: target.dataDir };
  if (metaDbPath === undefined) {
    return {
      ...base,
      decision: 'keep',
      source: 'none',
      records: undefined,
      heldBy: [],
      reasons: [`${why}, and containerd's meta.db was not found: not wiping on a guess`],
    };
  }
  const found = recordsIn(await readMetaDb(metaDbPath), target.snapshotter);
  const heldBy = await taskStates(client, found.containers);
  return {
    ...base,
    decision: found.records === 0 ? 'wipe-safe' : 'keep',
    source: 'meta.db',
    records: found.records,
    heldBy,
    reasons:
      found.records === 0
        ? []
        : [
            `${why}; meta.db (${metaDbPath}) still holds ${found.records} records of it in ${found.namespaces.join(', ')}`,
          ],
  };
}

export async function decide(ctx: RecordsContext, target: Target): Promise<SnapshotterOutcome> {
  const socket = ctx.host.path(target.socket);
  const client = await connectContainerd(ctx);
  try {
    const metaDbPath = await locateMetaDb(ctx, client);
    const answers = await snapshotterAnswers(socket);
    if (!answers || client === undefined) {
      const why = !answers
        ? `${target.snapshotter} does not answer on ${target.socket}`
        : 'containerd is not running';
      return await decideFromMetaDb(ctx, target, client, metaDbPath, why);
    }
    let result;
    try {
      result = await cleanSnapshots(client, {
        snapshotter: target.snapshotter,
        readMeta: metaDbPath === undefined ? undefined : metaRecordReader(metaDbPath, target.snapshotter),
        metaDbPath,
        log: ctx.log,
      });
    } catch (error) {
      return await decideFromMetaDb(
        ctx,
        target,
        client,
        metaDbPath,
        `the cleanup engine failed (${message(error)})`,
      );
    }
    const heldBy = result.namespaces.flatMap((ns) =>
      ns.keptContainers.map((c) => ({ namespace: ns.namespace, container: c.id, taskStatus: c.taskStatus })),
    );
    const removed = result.namespaces.reduce((n, ns) => n + ns.snapshotsRemoved + ns.sweptByGc, 0);
    ctx.log.info(
      `${target.snapshotter}: cleanup engine removed ${removed} records in ${result.rounds} rounds, verdict clean=${String(result.clean)}`,
    );
    const base = {
      snapshotter: target.snapshotter,
      dataDir: target.dataDir,
      source: 'engine' as const,
      heldBy,
    };
    if (result.clean !== true || metaDbPath === undefined) {
      const left =
        metaDbPath === undefined ? undefined : recordsIn(await readMetaDb(metaDbPath), target.snapshotter);
      return { ...base, decision: 'keep', records: left?.records, reasons: result.reasons };
    }
    const view = await readMetaDb(metaDbPath);
    const backend = await readBackendInventory({ address: socket, root: ctx.host.path(target.dataDir) });
    const report = diagnose(view, target.snapshotter, backend);
    if (report.records === 0 && report.staleRecords.length === 0)
      return { ...base, decision: 'wipe-safe', records: 0, reasons: [] };
    return {
      ...base,
      decision: 'keep',
      records: report.records,
      reasons: [
        `the doctor still finds ${report.records} records (${report.staleRecords.length} stale) after a clean verdict`,
      ],
    };
  } finally {
    client?.close();
  }
}

/** Acts on this run's verdict for the snapshotter; anything but a fresh `wipe-safe` keeps the dir. */
export async function wipe(
  ctx: RecordsContext,
  target: Target,
  verdict: SnapshotterOutcome | undefined,
): Promise<SnapshotterOutcome> {
  const kept = (reasons: readonly string[], from = verdict): SnapshotterOutcome => ({
    snapshotter: target.snapshotter,
    dataDir: target.dataDir,
    decision: 'kept',
    source: from?.source ?? 'none',
    records: from?.records,
    heldBy: from?.heldBy ?? [],
    reasons,
  });
  if (verdict === undefined) return kept(['no verdict on its records was reached in this run']);
  if (verdict.decision !== 'wipe-safe') return kept(verdict.reasons);
  if (await snapshotterAnswers(ctx.host.path(target.socket), 2_000))
    return kept([`${target.snapshotter} still answers on ${target.socket}; it was not stopped`]);
  // A pull could have slipped in between the verdict and the stop: meta.db must still hold nothing.
  const client = await connectContainerd(ctx);
  try {
    const again = await decideFromMetaDb(
      ctx,
      target,
      client,
      await locateMetaDb(ctx, client),
      'checked again before the wipe',
    );
    if (again.decision !== 'wipe-safe') return kept(again.reasons, again);
  } finally {
    client?.close();
  }
  const busy = await ctx.host.unmountUnder(target.dataDir);
  if (busy.length > 0) return kept([`still mounted below the data dir: ${busy.join(', ')}`]);
  await ctx.host.removeTree(target.dataDir);
  return { ...verdict, decision: 'wiped' };
}

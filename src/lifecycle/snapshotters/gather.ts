/**
 * The I/O around the wipe gate (wipe-gate.ts decides): connect to containerd, locate and read meta.db,
 * probe the snapshotter, run the cleanup engine and a doctor pass, list tasks, and — only on a confirmed
 * verdict — unmount below the data dir and remove it. Every source that cannot be read is recorded as
 * such, never as "empty".
 */
import { dirname, join } from 'node:path';
import { UsageError, errorMessage } from '../../errors/index.js';
import { ContainerdClient } from '../../containerd/api/index.js';
import { readMetaDb, type MetaDbView } from '../../containerd/metadb/index.js';
import { locateMetaDb } from '../../containerd/metadb/locate.js';
import { probeSnapshotterSocket } from '../../containerd/snapshotter-liveness.js';
import { failed, notSeen, seen, type Evidence } from '../../evidence/index.js';
import type { Host } from '../../host/index.js';
import type { Names } from '../../names/index.js';
import type { Logger } from '../../output/log.js';
import { readBackendInventory } from '../../snapshots/backend.js';
import { cleanSnapshots, snapshotterLoaded } from '../../snapshots/clean.js';
import { diagnose } from '../../snapshots/doctor.js';
import { metaRecordReader } from '../../snapshots/metadb-source.js';
import type { HeldBy, SnapshotterOutcome } from './outcome.js';
import {
  confirmWipe,
  decideWipe,
  type DoctorReading,
  type EngineReading,
  type MetaDbReading,
  type SnapshotterState,
} from './wipe-gate.js';

export interface GateContext {
  readonly host: Host;
  readonly names: Names;
  readonly log: Logger;
}

export interface GateTarget {
  readonly snapshotter: string;
  /** Node paths. */
  readonly socket: string;
  readonly dataDir: string;
  /**
   * A snapshotter built into containerd (erofs): it answers exactly when containerd does, and its inventory is
   * its own metadata.db under containerd's root. Its store is containerd's: never wiped.
   */
  readonly builtIn?: boolean;
}

async function connectContainerd(
  ctx: Pick<GateContext, 'host' | 'names'> & { readonly log?: Logger },
): Promise<ContainerdClient | undefined> {
  try {
    return await ContainerdClient.connect({ socket: ctx.host.path(ctx.names.containerd.socket) });
  } catch (error) {
    ctx.log?.debug(`containerd does not answer: ${errorMessage(error)}`);
    return undefined;
  }
}

interface MetaDbRead {
  readonly reading: MetaDbReading;
  readonly path: string | undefined;
  readonly containers: readonly { namespace: string; id: string }[];
}

function count(view: MetaDbView, snapshotter: string) {
  let records = 0;
  const namespaces: string[] = [];
  const containers: { namespace: string; id: string }[] = [];
  for (const ns of view.namespaces) {
    const n = ns.snapshotters.get(snapshotter)?.snapshots.size ?? 0;
    if (n > 0) namespaces.push(`${ns.name} (${n})`);
    records += n;
    for (const c of ns.containers.values())
      if (c.snapshotter === snapshotter) containers.push({ namespace: ns.name, id: c.id });
  }
  return { records, namespaces, containers };
}

/** meta.db from the one locator, read; a path not found or a read that failed is evidence not seen. */
async function readMetaDbOf(
  ctx: Pick<GateContext, 'host' | 'names'>,
  client: ContainerdClient | undefined,
  snapshotter: string,
): Promise<MetaDbRead> {
  const location = await locateMetaDb({
    containerd: client,
    hostRoot: ctx.host.root,
    runtime: ctx.names.containerd.runtime,
    configFile: ctx.names.containerd.configFile,
  });
  const none = (evidence: Evidence): MetaDbRead => ({
    reading: { evidence, records: undefined, namespaces: [] },
    path: location.path,
    containers: [],
  });
  if (location.evidence.status !== 'seen' || location.path === undefined) return none(location.evidence);
  try {
    const found = count(await readMetaDb(location.path), snapshotter);
    return {
      reading: { evidence: location.evidence, records: found.records, namespaces: found.namespaces },
      path: location.path,
      containers: found.containers,
    };
  } catch (error) {
    return none(failed('meta-db', 'meta.db', `${location.path} could not be read: ${errorMessage(error)}`));
  }
}

async function snapshotterState(
  ctx: GateContext,
  socket: string,
  timeoutMs: number,
): Promise<SnapshotterState> {
  const probe = await probeSnapshotterSocket(ctx.host.path(socket), timeoutMs);
  return probe.state === 'answers' ? { state: 'answers' } : probe;
}

/** Task states of the containers that use the snapshotter; a listing that fails is `unknown`, never `none`. */
async function heldByOf(
  client: ContainerdClient | undefined,
  containers: readonly { namespace: string; id: string }[],
): Promise<{ heldBy: HeldBy[]; tasks: Evidence }> {
  if (containers.length === 0)
    return { heldBy: [], tasks: seen('tasks', 'tasks', 'no container uses the snapshotter') };
  if (client === undefined) {
    return {
      heldBy: containers.map((c) => ({ ...c, container: c.id, taskStatus: 'unknown' })),
      tasks: notSeen('tasks', 'tasks', 'containerd does not answer, so its tasks cannot be listed'),
    };
  }
  const byNs = new Map<string, Map<string, string> | Error>();
  for (const ns of new Set(containers.map((c) => c.namespace))) {
    byNs.set(
      ns,
      await client.tasks.list(ns).then(
        (tasks) => new Map(tasks.map((t) => [t.containerId, t.status])),
        (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
      ),
    );
  }
  const errors = [...byNs].filter((e): e is [string, Error] => e[1] instanceof Error);
  const heldBy = containers.map((c) => {
    const tasks = byNs.get(c.namespace);
    return {
      namespace: c.namespace,
      container: c.id,
      taskStatus: tasks instanceof Error || tasks === undefined ? 'unknown' : (tasks.get(c.id) ?? 'none'),
    };
  });
  return {
    heldBy,
    tasks:
      errors.length === 0
        ? seen('tasks', 'tasks', `listed in ${[...byNs.keys()].join(', ')}`)
        : failed(
            'tasks',
            `tasks in ${errors.map(([ns]) => ns).join(', ')}`,
            errors.map(([, e]) => e.message).join('; '),
          ),
  };
}

async function runEngine(
  ctx: GateContext,
  client: ContainerdClient,
  target: GateTarget,
  meta: MetaDbRead,
): Promise<{ engine: EngineReading; heldBy: HeldBy[] }> {
  try {
    const result = await cleanSnapshots(client, {
      snapshotter: target.snapshotter,
      readMeta:
        meta.path === undefined || meta.reading.evidence.status !== 'seen'
          ? undefined
          : metaRecordReader(meta.path, target.snapshotter),
      metaDbPath: meta.path,
      metaDbEvidence: meta.reading.evidence,
      log: ctx.log,
    });
    const removed = result.namespaces.reduce((n, ns) => n + ns.snapshotsRemoved + ns.sweptByGc, 0);
    ctx.log.info(
      `${target.snapshotter}: cleanup engine removed ${removed} records in ${result.rounds} rounds, verdict clean=${String(result.clean)}`,
    );
    return {
      engine: { clean: result.clean, reasons: result.reasons, evidence: result.evidence },
      heldBy: result.namespaces.flatMap((ns) =>
        ns.keptContainers.map((c) => ({
          namespace: ns.namespace,
          container: c.id,
          taskStatus: c.taskStatus,
        })),
      ),
    };
  } catch (error) {
    return {
      engine: {
        clean: 'unknown',
        reasons: [`the cleanup engine failed: ${errorMessage(error)}`],
        evidence: [failed('namespaces', 'the cleanup engine', errorMessage(error))],
      },
      heldBy: [],
    };
  }
}

async function doctorPass(
  ctx: GateContext,
  target: GateTarget,
  meta: MetaDbRead,
): Promise<DoctorReading | undefined> {
  if (meta.path === undefined || meta.reading.evidence.status !== 'seen') return undefined;
  const view = await readMetaDb(meta.path);
  const containerdRoot = dirname(dirname(meta.path));
  const backend = await readBackendInventory(
    target.builtIn === true
      ? {
          root: {
            path: join(containerdRoot, `io.containerd.snapshotter.v1.${target.snapshotter}`),
            how: `containerd's root ${containerdRoot} (built-in snapshotter)`,
          },
        }
      : {
          address: {
            path: ctx.host.path(target.socket),
            how: `kata-deploy's socket for ${target.snapshotter}`,
          },
          root: {
            path: ctx.host.path(target.dataDir),
            how: `kata-deploy's data dir for ${target.snapshotter}`,
          },
        },
  );
  const report = diagnose(view, target.snapshotter, backend, meta.reading.evidence);
  return {
    healthy: report.healthy,
    records: report.records,
    stale: report.staleRecords.length,
    evidence: report.evidence,
  };
}

/** true / false when containerd says whether it loaded the snapshotter; undefined when it could not say. */
async function isLoaded(client: ContainerdClient, snapshotter: string): Promise<boolean | undefined> {
  try {
    return (await snapshotterLoaded(client, snapshotter)).status === 'seen' ? true : undefined;
  } catch (error) {
    if (error instanceof UsageError) return false;
    throw error;
  }
}

/** While the snapshotter still runs: clean its records and decide whether its data dir may go. */
export async function decide(ctx: GateContext, target: GateTarget): Promise<SnapshotterOutcome> {
  const client = await connectContainerd(ctx);
  try {
    const state: SnapshotterState =
      target.builtIn === true
        ? client !== undefined
          ? { state: 'answers' }
          : {
              state: 'stopped',
              detail: 'containerd does not answer, and a built-in snapshotter runs inside it',
            }
        : await snapshotterState(ctx, target.socket, 5_000);
    let meta = await readMetaDbOf(ctx, client, target.snapshotter);
    let engine: EngineReading | undefined;
    let doctor: DoctorReading | undefined;
    let heldBy: HeldBy[] | undefined;
    // A snapshotter containerd has not loaded (an install killed before containerd's config named it) has no
    // records to clean through containerd; meta.db alone says whether any exist.
    const loadedInContainerd = client === undefined ? undefined : await isLoaded(client, target.snapshotter);
    if (state.state === 'answers' && client !== undefined && loadedInContainerd !== false) {
      ({ engine, heldBy } = await runEngine(ctx, client, target, meta));
      meta = await readMetaDbOf(ctx, client, target.snapshotter);
      if (engine.clean === true) doctor = await doctorPass(ctx, target, meta);
    }
    const tasks = await heldByOf(client, meta.containers);
    const outcome = decideWipe({
      snapshotter: target.snapshotter,
      dataDir: target.dataDir,
      socket: target.socket,
      metaDb: meta.reading,
      snapshotterState: state,
      containerdAnswers: client !== undefined,
      loadedInContainerd,
      engine,
      doctor,
      heldBy: heldBy ?? tasks.heldBy,
      tasks: tasks.tasks,
    });
    return target.builtIn === true ? { ...outcome, builtIn: true } : outcome;
  } finally {
    client?.close();
  }
}

/**
 * The containers whose snapshots live in `snapshotter`, from meta.db (located by the one locator); evidence
 * not seen when meta.db was not found or not read, never an empty list.
 */
export async function containersUsing(
  ctx: Pick<GateContext, 'host' | 'names'>,
  snapshotter: string,
): Promise<{ evidence: Evidence; containers: readonly { namespace: string; id: string }[] }> {
  const client = await connectContainerd(ctx);
  try {
    const meta = await readMetaDbOf(ctx, client, snapshotter);
    return { evidence: meta.reading.evidence, containers: meta.containers };
  } finally {
    client?.close();
  }
}

/** After the stop: wipe only on this run's `wipe-safe`, confirmed again; otherwise keep the dir. */
export async function wipe(
  ctx: GateContext,
  target: GateTarget,
  verdict: SnapshotterOutcome | undefined,
): Promise<SnapshotterOutcome> {
  const kept = (reasons: readonly string[], evidence?: readonly Evidence[]): SnapshotterOutcome => ({
    snapshotter: target.snapshotter,
    dataDir: target.dataDir,
    decision: 'kept',
    source: verdict?.source ?? 'none',
    records: verdict?.records,
    heldBy: verdict?.heldBy ?? [],
    reasons,
    evidence: evidence ?? verdict?.evidence ?? [],
  });
  if (target.builtIn === true)
    return kept(["a built-in snapshotter's store is containerd's own: kata-deploy never wipes it"]);
  if (verdict?.decision !== 'wipe-safe')
    return kept(
      verdict === undefined ? ['no verdict on its records was reached in this run'] : verdict.reasons,
    );
  const state = await snapshotterState(ctx, target.socket, 2_000);
  const client = await connectContainerd(ctx);
  let meta: MetaDbRead;
  try {
    meta = await readMetaDbOf(ctx, client, target.snapshotter);
  } finally {
    client?.close();
  }
  const confirmed = confirmWipe({
    snapshotter: target.snapshotter,
    socket: target.socket,
    verdict,
    snapshotterState: state,
    metaDb: meta.reading,
  });
  if (!confirmed.proceed) return kept(confirmed.reasons, confirmed.evidence);
  const busy = await ctx.host.unmountUnder(target.dataDir);
  if (busy.length > 0) return kept([`still mounted below the data dir: ${busy.join(', ')}`]);
  await ctx.host.removeTree(target.dataDir);
  return { ...verdict, decision: 'wiped', evidence: [...(verdict.evidence ?? []), ...confirmed.evidence] };
}

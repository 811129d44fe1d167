/**
 * Observes what a snapshotter holds in every namespace: containers and tasks from containerd's API, and the
 * snapshot records from meta.db when it can be read, because containerd's List hides records whose backend
 * data is gone — exactly the ones that break the next pull. Without meta.db, List is all there is.
 */
import { ContainerdError, NotFoundError, type ContainerdClient } from '../containerd/api/index.js';
import type { ObservedNamespace, SnapshotRecordView } from './types.js';

/** Every record of one snapshotter, by namespace then key, as meta.db stores them. */
export type MetaRecordIndex = Map<string, Map<string, MetaRecord>>;

export interface MetaRecord {
  parent: string | undefined;
  children: string[];
  /** Held for containerd's GC by something other than a child: an image, a container, a lease, a label. */
  referenced: boolean;
}

/** Reads meta.db's records for the snapshotter; plugged in by the caller (see metadb-source.ts). */
export type MetaRecordReader = () => Promise<MetaRecordIndex>;

export interface Observation {
  namespaces: ObservedNamespace[];
  /** Listings that failed: the result cannot be clean while any exists. */
  listingErrors: { namespace: string; message: string }[];
  /** Set when meta.db was asked for and could not be read. */
  metaDbError: string | undefined;
  metaDbUsed: boolean;
  /** Records of the snapshotter in every namespace meta.db has, examined or not; undefined without meta.db. */
  recordsByNamespace: Map<string, number> | undefined;
}

const describe = (error: unknown): string =>
  error instanceof ContainerdError || error instanceof Error ? error.message : String(error);

/**
 * With meta.db at hand the records come from it alone: it sees every record, and containerd's List would
 * cost one backend Stat per record. One Stat through containerd still proves the snapshotter answers: a
 * cleanup against a snapshotter that is down must end `unknown`, not remove records on a guess.
 */
async function probeSnapshotter(
  client: ContainerdClient,
  namespace: string,
  snapshotter: string,
  key: string,
) {
  try {
    await client.snapshots.stat(namespace, snapshotter, key);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
}

/** `meta`: this namespace's records from meta.db, read while the API calls are under way. */
async function observeNamespace(
  client: ContainerdClient,
  namespace: string,
  snapshotter: string,
  meta: Promise<Map<string, MetaRecord> | undefined> | Map<string, MetaRecord> | undefined,
): Promise<ObservedNamespace> {
  const [containers, tasks, metaRecords] = await Promise.all([
    client.containers.list(namespace),
    client.tasks.list(namespace),
    meta,
  ]);
  const records = new Map<string, SnapshotRecordView>();
  if (metaRecords) {
    for (const [key, record] of metaRecords) {
      records.set(key, {
        key,
        parent: record.parent,
        children: record.children,
        stale: undefined,
        referenced: record.referenced,
      });
    }
    const first = records.keys().next();
    if (!first.done) await probeSnapshotter(client, namespace, snapshotter, first.value);
  } else {
    for (const info of await client.snapshots.list(namespace, snapshotter)) {
      records.set(info.name, {
        key: info.name,
        parent: info.parent || undefined,
        children: undefined,
        stale: false,
      });
    }
  }
  return {
    namespace,
    records,
    containers: containers
      .filter((c) => c.snapshotter === snapshotter)
      .map((c) => ({ id: c.id, snapshotter: c.snapshotter, snapshotKey: c.snapshotKey, image: c.image })),
    tasks: new Map(tasks.map((t) => [t.containerId, t.status])),
  };
}

/** `fresh`: records of meta.db read by the caller just now, used instead of reading again. */
export async function observe(
  client: ContainerdClient,
  snapshotter: string,
  namespaces: string[],
  readMeta: MetaRecordReader | undefined,
  fresh?: MetaRecordIndex,
): Promise<Observation> {
  let metaDbError: string | undefined;
  // Read while the listings travel: decoding meta.db and containerd's answers overlap.
  const metaIndex = fresh
    ? Promise.resolve(fresh)
    : readMeta
      ? readMeta().catch((error: unknown) => {
          metaDbError = describe(error);
          return undefined;
        })
      : Promise.resolve(undefined);
  const listingErrors: Observation['listingErrors'] = [];
  const observed: ObservedNamespace[] = [];
  await Promise.all(
    namespaces.map(async (namespace) => {
      const meta = metaIndex.then((index) => index?.get(namespace));
      try {
        observed.push(await observeNamespace(client, namespace, snapshotter, meta));
      } catch (error) {
        listingErrors.push({ namespace, message: describe(error) });
      }
    }),
  );
  observed.sort((a, b) => a.namespace.localeCompare(b.namespace));
  const index = await metaIndex;
  return {
    namespaces: observed,
    listingErrors,
    metaDbError,
    metaDbUsed: index !== undefined,
    recordsByNamespace:
      index === undefined ? undefined : new Map([...index].map(([ns, records]) => [ns, records.size])),
  };
}

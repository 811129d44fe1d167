/**
 * Observes what a snapshotter holds in every namespace: containerd's listing (containers, tasks, snapshots)
 * merged with meta.db's records when meta.db can be read, because List hides records whose backend data is
 * gone — exactly the ones that break the next pull.
 */
import { ContainerdError, type ContainerdClient } from '../containerd/api/index.js';
import type { ObservedNamespace, SnapshotRecordView } from './types.js';

/** Every record of one snapshotter, by namespace then key, as meta.db stores them. */
export type MetaRecordIndex = Map<string, Map<string, MetaRecord>>;

export interface MetaRecord {
  parent: string | undefined;
  children: string[];
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
}

const describe = (error: unknown): string =>
  error instanceof ContainerdError || error instanceof Error ? error.message : String(error);

export async function observeNamespace(
  client: ContainerdClient,
  namespace: string,
  snapshotter: string,
  meta: Map<string, MetaRecord> | undefined,
): Promise<ObservedNamespace> {
  const [containers, tasks, snapshots] = await Promise.all([
    client.containers.list(namespace),
    client.tasks.list(namespace),
    client.snapshots.list(namespace, snapshotter),
  ]);
  const records = new Map<string, SnapshotRecordView>();
  for (const info of snapshots) {
    records.set(info.name, {
      key: info.name,
      parent: info.parent || undefined,
      children: undefined,
      stale: false,
    });
  }
  for (const [key, record] of meta ?? []) {
    const listed = records.get(key);
    records.set(key, {
      key,
      parent: listed?.parent ?? record.parent,
      children: record.children,
      stale: listed === undefined,
    });
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

export async function observe(
  client: ContainerdClient,
  snapshotter: string,
  namespaces: string[],
  readMeta: MetaRecordReader | undefined,
): Promise<Observation> {
  let metaIndex: MetaRecordIndex | undefined;
  let metaDbError: string | undefined;
  if (readMeta) {
    try {
      metaIndex = await readMeta();
    } catch (error) {
      metaDbError = describe(error);
    }
  }
  const listingErrors: Observation['listingErrors'] = [];
  const observed: ObservedNamespace[] = [];
  await Promise.all(
    namespaces.map(async (namespace) => {
      try {
        observed.push(await observeNamespace(client, namespace, snapshotter, metaIndex?.get(namespace)));
      } catch (error) {
        listingErrors.push({ namespace, message: describe(error) });
      }
    }),
  );
  observed.sort((a, b) => a.namespace.localeCompare(b.namespace));
  return { namespaces: observed, listingErrors, metaDbError, metaDbUsed: metaIndex !== undefined };
}

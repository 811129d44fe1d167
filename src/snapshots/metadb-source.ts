/** Plugs containerd's meta.db into the cleanup engine, and finds meta.db for a running containerd. */
import type { ContainerdClient } from '../containerd/api/index.js';
import { seenFromHere } from '../host/paths.js';
import { reusingBoltFileIo } from '../containerd/metadb/bolt.js';
import { readMetaDb } from '../containerd/metadb/read.js';
import type { MetaDbView, NamespaceView } from '../containerd/metadb/types.js';
import type { MetaRecord, MetaRecordIndex, MetaRecordReader } from './observe.js';

const GC_REF_SNAPSHOT = 'containerd.io/gc.ref.snapshot.';
const GC_ROOT = 'containerd.io/gc.root';

/** Keys of `snapshotter` that containerd's GC treats as held by something other than a child. */
export function referencedKeys(ns: NamespaceView, snapshotter: string): Set<string> {
  const held = new Set<string>();
  const fromLabels = (labels: Record<string, string>): void => {
    for (const [label, value] of Object.entries(labels)) {
      if (!label.startsWith(GC_REF_SNAPSHOT)) continue;
      const target = label.slice(GC_REF_SNAPSHOT.length);
      if (target === snapshotter || target.startsWith(`${snapshotter}/`)) held.add(value);
    }
  };
  for (const labels of ns.contentLabels.values()) fromLabels(labels);
  for (const image of ns.images.values()) fromLabels(image.labels);
  for (const container of ns.containers.values()) {
    if (container.snapshotter === snapshotter && container.snapshotKey) held.add(container.snapshotKey);
    fromLabels(container.labels);
  }
  for (const lease of ns.leases.values())
    for (const key of lease.snapshots.get(snapshotter) ?? []) held.add(key);
  for (const [key, record] of ns.snapshotters.get(snapshotter)?.snapshots ?? []) {
    if (record.labels[GC_ROOT] !== undefined) held.add(key);
    fromLabels(record.labels);
  }
  return held;
}

export const METADATA_PLUGIN_TYPE = 'io.containerd.metadata.v1';

/** The records of one snapshotter, by namespace, from a decoded meta.db. */
export function recordIndex(view: MetaDbView, snapshotter: string): MetaRecordIndex {
  const index: MetaRecordIndex = new Map();
  for (const ns of view.namespaces) {
    const held = referencedKeys(ns, snapshotter);
    const records = new Map<string, MetaRecord>();
    for (const [key, record] of ns.snapshotters.get(snapshotter)?.snapshots ?? []) {
      records.set(key, { parent: record.parent, children: record.children, referenced: held.has(key) });
    }
    index.set(ns.name, records);
  }
  return index;
}

/**
 * Reads the records of `snapshotter` each time it is called. Calls are served one at a time, so every read
 * can reuse one file buffer: its snapshot is decoded into plain values before the next read starts.
 */
export function metaRecordReader(path: string, snapshotter: string): MetaRecordReader {
  const io = reusingBoltFileIo();
  let previous: Promise<unknown> = Promise.resolve();
  return () => {
    const read = previous.then(async () => recordIndex(await readMetaDb(path, { io }), snapshotter));
    previous = read.catch(() => undefined);
    return read;
  };
}

/**
 * meta.db's path as containerd reports it (the bolt plugin exports `path`), seen from this process:
 * under `hostRoot` when the node's file system is mounted elsewhere (a pod's /host).
 */
export async function metaDbPathFromIntrospection(
  client: ContainerdClient,
  hostRoot = '/',
): Promise<string | undefined> {
  const plugins = await client.introspection.plugins([`type==${METADATA_PLUGIN_TYPE}`]);
  const path = plugins.find((p) => p.exports['path'])?.exports['path'];
  return path === undefined ? undefined : seenFromHere(path, hostRoot);
}

/** Plugs containerd's meta.db into the cleanup engine. */
import { reusingBoltFileIo } from '../containerd/metadb/bolt.js';
import { readMetaDb } from '../containerd/metadb/read.js';
import type { MetaDbView } from '../containerd/metadb/types.js';
import { referencedKeys } from './holders.js';
import type { MetaRecord, MetaRecordIndex, MetaRecordReader } from './observe.js';

/** The records of one snapshotter, by namespace, from a decoded meta.db. */
function recordIndex(view: MetaDbView, snapshotter: string): MetaRecordIndex {
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

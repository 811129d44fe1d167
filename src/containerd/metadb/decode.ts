/** Turns a bbolt snapshot of containerd's meta.db into the typed MetaDbView (types.ts). */
import type { BoltBucket, BoltSnapshot } from './bolt.js';
import { decodeVarintNumber } from './codec.js';
import { MetaDbFormatError } from './errors.js';
import { forEachBucket, malformed, readLabels, type DecodeContext } from './fields.js';
import {
  decodeContainers,
  decodeContentLabels,
  decodeImages,
  decodeLeases,
  decodeSnapshotter,
} from './records.js';
import * as S from './schema.js';
import type { MetaDbView, NamespaceView, SnapshotterView } from './types.js';

function decodeNamespace(ctx: DecodeContext, name: string, ns: BoltBucket): NamespaceView {
  const where = `${S.SCHEMA_VERSION_BUCKET}/${name}`;
  const snapshotters = new Map<string, SnapshotterView>();
  forEachBucket(ns.bucket(S.NS_SNAPSHOTS), (snapshotter, bucket) => {
    snapshotters.set(
      snapshotter,
      decodeSnapshotter(ctx, bucket, `${where}/${S.NS_SNAPSHOTS}/${snapshotter}`),
    );
  });
  return {
    name,
    labels: readLabels(ns.bucket(S.NS_LABELS)),
    snapshotters,
    containers: decodeContainers(ctx, ns.bucket(S.NS_CONTAINERS), `${where}/${S.NS_CONTAINERS}`),
    images: decodeImages(ctx, ns.bucket(S.NS_IMAGES), `${where}/${S.NS_IMAGES}`),
    contentLabels: decodeContentLabels(ns.bucket(S.NS_CONTENT)),
    leases: decodeLeases(ctx, ns.bucket(S.NS_LEASES), `${where}/${S.NS_LEASES}`),
  };
}

/**
 * Decodes every namespace. A database without a `v1` bucket is an empty one; a `v1` bucket without
 * `version` is not containerd's meta.db (a snapshotter's own metadata.db also starts with `v1`).
 */
export function decodeMetaDb(snapshot: BoltSnapshot): MetaDbView {
  const ctx: DecodeContext = { file: snapshot.path };
  const base = { path: snapshot.path, txid: snapshot.txid };
  const v1 = snapshot.root.bucket(S.SCHEMA_VERSION_BUCKET);
  if (!v1) {
    if (snapshot.root.get(S.SCHEMA_VERSION_BUCKET) !== undefined) {
      throw new MetaDbFormatError(
        snapshot.path,
        `"${S.SCHEMA_VERSION_BUCKET}" is a value, not a bucket: not a containerd meta.db`,
      );
    }
    return { ...base, dbVersion: undefined, namespaces: [] };
  }
  const version = v1.get(S.DB_VERSION_KEY);
  if (version === undefined) {
    throw new MetaDbFormatError(
      snapshot.path,
      `no ${S.SCHEMA_VERSION_BUCKET}/${S.DB_VERSION_KEY}: not a containerd meta.db (a snapshotter's metadata.db?)`,
    );
  }
  const dbVersion = decodeVarintNumber(version);
  if (dbVersion === undefined)
    throw malformed(ctx, `${S.SCHEMA_VERSION_BUCKET}/${S.DB_VERSION_KEY}`, 'not a Go varint');
  if (!S.KNOWN_DB_VERSIONS.includes(dbVersion)) {
    // Another schema may keep records where this reader does not look: it must not read as "no records".
    throw new MetaDbFormatError(
      snapshot.path,
      `schema version ${dbVersion} is not one this reader knows (${S.KNOWN_DB_VERSIONS.join(', ')}: containerd 1.6 to 2.x); refusing to read it rather than miss records`,
    );
  }
  const namespaces: NamespaceView[] = [];
  forEachBucket(v1, (name, ns) => namespaces.push(decodeNamespace(ctx, name, ns)));
  return { ...base, dbVersion, namespaces };
}

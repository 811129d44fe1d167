/**
 * containerd's meta.db schema: every bucket and field key, declared once. All keys are raw bytes without
 * terminator; B is a bucket, V a value. The same tree holds for containerd 1.6, 1.7 and 2.x (2.x adds
 * the marked parts; dbVersion is 3 in 1.x and 4 in 2.x).
 *
 *   v1                                  B  schema version bucket
 *   ├ version                           V  dbVersion, Go binary.PutVarint
 *   └ <namespace>                       B  (values directly under v1 are not namespaces)
 *      ├ labels                         B  namespace labels
 *      ├ images/<name>                  B  createdat, updatedat V; labels B; annotations B
 *      │  └ target                      B  digest, mediatype V; size V (varint)
 *      ├ containers/<id>                B  createdat, updatedat, image, snapshotter, snapshotKey, spec V;
 *      │                                   runtime B {name, options}; extensions B; labels B; sandboxid V (2.x)
 *      ├ snapshots/<snapshotter>        B  bucket sequence = the counter in backend keys
 *      │  └ <snapshot key>              B  name V (backend key "<ns>/<seq>/<key>"); parent V (parent's key);
 *      │                                   children B {<child key>: empty}; createdat, updatedat V; labels B
 *      ├ content
 *      │  ├ blob/<digest>               B  createdat, updatedat V; size V (varint); labels B
 *      │  └ ingests/<ref>               B  ref, expireat, expected V
 *      ├ leases/<id>                    B  createdat V; labels B; snapshots B {<snapshotter> B {<key>: empty}};
 *      │                                   content B {<digest>: empty}; ingests B {<ref>: empty}; images B (2.x)
 *      └ sandboxes/<id>                 B  (2.x)
 *
 * Timestamps are Go time.MarshalBinary (15 or 16 bytes); see codec.ts.
 */

export const SCHEMA_VERSION_BUCKET = 'v1';
export const DB_VERSION_KEY = 'version';
/** dbVersion values this decoder understands: 3 (containerd 1.x) and 4 (2.x). */
export const KNOWN_DB_VERSIONS: readonly number[] = [3, 4];

export const NS_LABELS = 'labels';
export const NS_IMAGES = 'images';
export const NS_CONTAINERS = 'containers';
export const NS_SNAPSHOTS = 'snapshots';
export const NS_CONTENT = 'content';
export const NS_LEASES = 'leases';
export const NS_SANDBOXES = 'sandboxes';

export const CONTENT_BLOB = 'blob';
export const CONTENT_INGESTS = 'ingests';

export const KEY_LABELS = 'labels';
export const KEY_ANNOTATIONS = 'annotations';
export const KEY_CREATED_AT = 'createdat';
export const KEY_UPDATED_AT = 'updatedat';

export const IMAGE_TARGET = 'target';
export const TARGET_DIGEST = 'digest';
export const TARGET_MEDIA_TYPE = 'mediatype';
export const TARGET_SIZE = 'size';

export const CONTAINER_IMAGE = 'image';
export const CONTAINER_SNAPSHOTTER = 'snapshotter';
export const CONTAINER_SNAPSHOT_KEY = 'snapshotKey';
export const CONTAINER_RUNTIME = 'runtime';
export const CONTAINER_SANDBOX_ID = 'sandboxid';
export const RUNTIME_NAME = 'name';

export const SNAPSHOT_NAME = 'name';
export const SNAPSHOT_PARENT = 'parent';
export const SNAPSHOT_CHILDREN = 'children';

export const BLOB_SIZE = 'size';

export const LEASE_SNAPSHOTS = 'snapshots';
export const LEASE_CONTENT = 'content';
export const LEASE_INGESTS = 'ingests';
export const LEASE_IMAGES = 'images';

/** Where containerd keeps meta.db under its root directory. */
export const METADATA_PLUGIN_DIR = 'io.containerd.metadata.v1.bolt';
export const METADATA_FILE = 'meta.db';

/** Config-blob label that ties an unpacked image to the top snapshot of its chain in a snapshotter. */
export const GC_REF_SNAPSHOT_PREFIX = 'containerd.io/gc.ref.snapshot.';
/** Snapshot label set on extraction snapshots: the chainID they are committed as. */
export const SNAPSHOT_REF_LABEL = 'containerd.io/snapshot.ref';

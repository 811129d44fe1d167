/** Read-only access to containerd's meta.db: bbolt reader, schema decoder and path discovery. */

export {
  openBoltSnapshot,
  parseBolt,
  reusingBoltFileIo,
  type BoltBucket,
  type BoltCursor,
  type BoltEntry,
  type BoltFileIo,
  type BoltSnapshot,
  type OpenBoltOptions,
} from './bolt.js';
export { decodeMetaDb } from './decode.js';
export { MetaDbChangedError, MetaDbFormatError, MetaDbNotFoundError } from './errors.js';
export {
  DEFAULT_CONTAINERD_ROOT,
  containerdRootFromConfig,
  defaultMetaDbPath,
  findMetaDbPath,
  type FindMetaDbOptions,
  type MetaDbLocation,
  type MetaDbPathSource,
} from './path.js';
export { GC_REF_SNAPSHOT_PREFIX, SNAPSHOT_REF_LABEL } from './schema.js';
export type * from './types.js';

// Importing read.js alone keeps the TOML parser (path.ts) out of commands that are given meta.db's path.
export { readMetaDb } from './read.js';

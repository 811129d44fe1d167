/** Read-only access to containerd's meta.db: bbolt reader and schema decoder (locate.ts finds the file). */

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
export { GC_REF_SNAPSHOT_PREFIX, SNAPSHOT_REF_LABEL } from './schema.js';
export type * from './types.js';

export { readMetaDb } from './read.js';

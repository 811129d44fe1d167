/** Read-only access to containerd's meta.db: bbolt reader, schema decoder and path discovery. */
import { openBoltSnapshot, type OpenBoltOptions } from './bolt.js';
import { decodeMetaDb } from './decode.js';
import type { MetaDbView } from './types.js';

export {
  openBoltSnapshot,
  parseBolt,
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

/** Reads meta.db without locking it and decodes it (see openBoltSnapshot for the consistency rules). */
export async function readMetaDb(path: string, options?: OpenBoltOptions): Promise<MetaDbView> {
  return decodeMetaDb(await openBoltSnapshot(path, options));
}

import { openBoltSnapshot, type OpenBoltOptions } from './bolt.js';
import { decodeMetaDb } from './decode.js';
import type { MetaDbView } from './types.js';

/** Reads meta.db without locking it and decodes it (see openBoltSnapshot for the consistency rules). */
export async function readMetaDb(path: string, options?: OpenBoltOptions): Promise<MetaDbView> {
  return decodeMetaDb(await openBoltSnapshot(path, options));
}

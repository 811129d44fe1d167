/**
 * The snapshotter's own inventory, in backend keys (`<ns>/<seq>/<key>`), read without containerd:
 * from the snapshotter's gRPC socket when it answers, otherwise from its own bolt database under its root
 * (`metadata.db`, containerd's snapshot storage layout `v1/snapshots/<backend key>`), which a stopped or
 * wiped snapshotter still tells the truth about: a missing file means it holds nothing.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { NotFoundError } from '../containerd/api/index.js';
import { Transport } from '../containerd/api/transport.js';
import { openBoltSnapshot } from '../containerd/metadb/index.js';
import { isErrno } from '../errors/index.js';

export type BackendInventory =
  { known: true; keys: Set<string>; source: string } | { known: false; reason: string };

export const SNAPSHOTTER_DB_FILE = 'metadata.db';

export async function listBackendOverGrpc(address: string, timeoutMs = 30_000): Promise<Set<string>> {
  const transport = new Transport(address, { stream: timeoutMs });
  try {
    const pages = await transport.stream<{ info: { name: string }[] }>('snapshots.v1.Snapshots', 'List', {
      snapshotter: '',
      filters: [],
    });
    return new Set(pages.flatMap((p) => p.info.map((i) => i.name)));
  } catch (error) {
    // A freshly started snapshotter with an empty store has no snapshots bucket yet, and its listing
    // answers "bucket does not exist: not found" until the first write: it holds nothing.
    if (error instanceof NotFoundError) return new Set();
    throw error;
  } finally {
    transport.close();
  }
}

export async function listBackendFromDisk(root: string): Promise<Set<string>> {
  const path = join(root, SNAPSHOTTER_DB_FILE);
  try {
    await access(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return new Set();
    throw error;
  }
  const db = await openBoltSnapshot(path);
  const keys = new Set<string>();
  db.root
    .bucket('v1')
    ?.bucket('snapshots')
    ?.forEach((key, entry) => {
      if (entry.isBucket) keys.add(key);
    });
  return keys;
}

export interface BackendLocation {
  /** The snapshotter's gRPC socket (proxy plugins: `address`). */
  address?: string | undefined;
  /** The snapshotter's data directory (proxy plugins: `exports.root`; built-ins: under containerd's root). */
  root?: string | undefined;
}

export async function readBackendInventory(location: BackendLocation): Promise<BackendInventory> {
  const problems: string[] = [];
  if (location.address) {
    try {
      return {
        known: true,
        keys: await listBackendOverGrpc(location.address),
        source: `socket ${location.address}`,
      };
    } catch (error) {
      problems.push(`socket ${location.address}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (location.root) {
    try {
      const keys = await listBackendFromDisk(location.root);
      return { known: true, keys, source: `${join(location.root, SNAPSHOTTER_DB_FILE)} (read from disk)` };
    } catch (error) {
      problems.push(`${location.root}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (problems.length === 0)
    problems.push('neither its socket nor its data directory is known (give --snapshotter-root)');
  return { known: false, reason: problems.join('; ') };
}

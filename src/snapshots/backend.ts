/**
 * The snapshotter's own inventory, in backend keys (`<ns>/<seq>/<key>`), read without containerd: from the
 * snapshotter's socket when it answers, otherwise from its own bolt database (`metadata.db`, containerd's
 * snapshot storage layout `v1/snapshots/<backend key>`) under a data directory that was found — given with a
 * flag, reported by containerd, named by containerd's config, or set up by kata-deploy. Never guessed.
 *
 * From disk: a missing directory proves nothing (it may be the wrong one), so the inventory is unknown. An
 * empty directory is a wiped store: it holds nothing. A directory with other files but no metadata.db is
 * not the snapshotter's store: unknown.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { openBoltSnapshot } from '../containerd/metadb/index.js';
import { isErrno, errorMessage } from '../errors/index.js';
import { notSeen, seen, type Evidence } from '../evidence/index.js';
import { probeSnapshotterSocket } from '../containerd/snapshotter-liveness.js';

export const SNAPSHOTTER_DB_FILE = 'metadata.db';

/** A path and how it was found. */
export interface Located {
  readonly path: string;
  readonly how: string;
}

export interface BackendLocation {
  /** The snapshotter's gRPC socket (proxy plugins: `address`). */
  readonly address?: Located | undefined;
  /** The snapshotter's data directory (proxy plugins: `exports.root`; built-ins: under containerd's root). */
  readonly root?: Located | undefined;
  /** What to tell the operator when neither gives an answer (the flag to pass, the dir kata-deploy uses). */
  readonly hint?: string | undefined;
}

export type BackendInventory =
  | {
      readonly known: true;
      readonly keys: ReadonlySet<string>;
      readonly source: string;
      readonly evidence: Evidence;
    }
  | { readonly known: false; readonly reason: string; readonly evidence: Evidence };

const SUBJECT = "the snapshotter's inventory";

type DiskRead = { keys: Set<string>; source: string } | { problem: string };

async function readBackendFromDisk(root: string): Promise<DiskRead> {
  try {
    if (!(await stat(root)).isDirectory()) return { problem: `${root} is not a directory` };
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR')) return { problem: `${root} does not exist` };
    throw error;
  }
  const path = join(root, SNAPSHOTTER_DB_FILE);
  const entries = await readdir(root);
  if (!entries.includes(SNAPSHOTTER_DB_FILE)) {
    if (entries.length === 0) return { keys: new Set(), source: `${root} (empty: the store was wiped)` };
    // containerd's storage layout creates snapshots/ at start and metadata.db on the first write.
    if (
      entries.length === 1 &&
      entries[0] === 'snapshots' &&
      (await readdir(join(root, 'snapshots'))).length === 0
    )
      return {
        keys: new Set(),
        source: `${root} (never written: an empty snapshots/ and no ${SNAPSHOTTER_DB_FILE})`,
      };
    return { problem: `${root} holds no ${SNAPSHOTTER_DB_FILE}, so it is not the snapshotter's store` };
  }
  const db = await openBoltSnapshot(path);
  const keys = new Set<string>();
  db.root
    .bucket('v1')
    ?.bucket('snapshots')
    ?.forEach((key, entry) => {
      if (entry.isBucket) keys.add(key);
    });
  return { keys, source: `${path} (read from disk)` };
}

export async function readBackendInventory(
  location: BackendLocation,
  timeoutMs = 30_000,
): Promise<BackendInventory> {
  const problems: string[] = [];
  if (location.address) {
    const probe = await probeSnapshotterSocket(location.address.path, timeoutMs);
    if (probe.state === 'answers') {
      const source = `socket ${location.address.path} (${location.address.how})`;
      return {
        known: true,
        keys: new Set(probe.keys),
        source,
        evidence: seen('backend-inventory', SUBJECT, source),
      };
    }
    problems.push(probe.detail);
  }
  if (location.root) {
    try {
      const read = await readBackendFromDisk(location.root.path);
      if ('keys' in read) {
        const source = `${read.source}, data directory from ${location.root.how}`;
        return { known: true, keys: read.keys, source, evidence: seen('backend-inventory', SUBJECT, source) };
      }
      problems.push(read.problem);
    } catch (error) {
      problems.push(`${location.root.path}: ${errorMessage(error)}`);
    }
  }
  if (!location.address && !location.root)
    problems.push('neither its socket nor its data directory is known');
  const hint =
    location.hint ??
    "start the snapshotter so its socket answers, or pass --snapshotter-root with the snapshotter's data directory";
  const reason = problems.join('; ');
  return {
    known: false,
    reason: `${reason} (${hint})`,
    evidence: notSeen('backend-inventory', SUBJECT, reason, hint),
  };
}

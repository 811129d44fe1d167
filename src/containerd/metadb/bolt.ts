/**
 * A read-only bbolt reader for containerd's meta.db. It takes no lock: containerd holds an exclusive
 * flock on the file for as long as it runs, and flock is advisory, so plain reads are not blocked. To get
 * a consistent picture anyway, the whole file is read into memory in one go, the newest valid meta page
 * is chosen, every reachable page is checked (pages.ts), and the meta pages on disk are read again
 * afterwards to see whether containerd committed more than once meanwhile (see `stable`).
 */
import { open } from 'node:fs/promises';

import { HostError, isErrno } from '../../errors/errors.js';
import { BucketView, type BoltBucket } from './bucket.js';
import { MetaDbChangedError, MetaDbFormatError, MetaDbNotFoundError } from './errors.js';
import { discoverPageSize, validMetas, type BoltMeta } from './meta.js';
import { PageIndex } from './pages.js';

export type { BoltBucket, BoltCursor, BoltEntry } from './bucket.js';

export interface BoltSnapshot {
  readonly txid: bigint;
  readonly pageSize: number;
  readonly root: BoltBucket;
  readonly path: string;
  /** Which meta page the snapshot was read through (0 or 1). */
  readonly metaPage: 0 | 1;
  /** Size of the file as read. */
  readonly byteLength: number;
}

export interface OpenBoltOptions {
  /** Reads of the whole file before giving up on a file that keeps changing. @default 4 */
  readonly attempts?: number;
  /**
   * Pause before the third attempt, in milliseconds, growing by as much before each further one. The second
   * attempt follows at once: a commit or two landing in a read is common on a busy node, a storm is not.
   * @default 25
   */
  readonly retryDelayMs?: number;
  /** File access, replaceable so tests can simulate a file that changes between reads. */
  readonly io?: BoltFileIo;
}

export interface BoltFileIo {
  /** The whole file in one read. */
  readFile(path: string): Promise<Buffer>;
  /** Up to `length` bytes from the start of the file. */
  readHead(path: string, length: number): Promise<Buffer>;
}

/** Reads the whole file into the buffer `allocate` gives for its size. */
async function readWholeFile(
  path: string,
  allocate: (size: number) => Buffer = (size) => Buffer.allocUnsafe(size),
): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const buf = allocate(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(buf, filled, size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buf.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

async function readHead(path: string, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(length);
    const { bytesRead } = await handle.read(head, 0, length, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * One read of the whole size: fs.readFile's 512 KiB chunks take several times longer on a large meta.db, and
 * a longer read is a wider window for a commit to land in the middle of it.
 */
export const nodeBoltFileIo: BoltFileIo = { readFile: (path) => readWholeFile(path), readHead };

/**
 * Like nodeBoltFileIo, but every read lands in the same buffer: for a reader that re-reads meta.db many
 * times, a fresh multi-MiB buffer per read costs more in page faults and garbage collection than the read.
 * A buffer it returns is valid only until its next readFile, so the caller must be done with a snapshot
 * (decoded it into plain values) before reading again.
 */
export function reusingBoltFileIo(): BoltFileIo {
  let kept: Buffer | undefined;
  return {
    readFile: (path) =>
      readWholeFile(path, (size) => {
        // Its own memory, never a slice of Node's shared pool that other code writes to.
        if (!kept || kept.byteLength < size) kept = Buffer.allocUnsafeSlow(size);
        return kept;
      }),
    readHead,
  };
}

const DEFAULT_NAME = '<meta.db buffer>';

function snapshotFrom(index: PageIndex, path: string, byteLength: number): BoltSnapshot {
  const meta = index.meta;
  return {
    txid: meta.txid,
    pageSize: meta.pageSize,
    root: BucketView.root(index),
    path,
    metaPage: meta.page,
    byteLength,
  };
}

/**
 * Parses a bbolt file held in memory (pure; the buffer is not copied and must not change afterwards).
 * Uses the newest valid meta page and falls back to the other one when the newest leads to a damaged
 * tree. Throws MetaDbFormatError for anything that is not a complete, intact bbolt file.
 */
export function parseBolt(buf: Uint8Array, path: string = DEFAULT_NAME): BoltSnapshot {
  const bytes = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (bytes.byteLength === 0) throw new MetaDbFormatError(path, 'the file is empty');
  const size = discoverPageSize(bytes);
  if ('problem' in size) {
    throw new MetaDbFormatError(
      path,
      `not a bbolt database: ${size.problem} and no valid second meta page was found`,
    );
  }
  const { metas, problems } = validMetas(bytes, size.pageSize);
  if (metas.length === 0) throw new MetaDbFormatError(path, `no valid meta page: ${problems.join('; ')}`);
  let first: MetaDbFormatError | undefined;
  for (const meta of metas) {
    const index = new PageIndex(bytes, meta, path);
    try {
      index.verify();
      return snapshotFrom(index, path, bytes.byteLength);
    } catch (error) {
      if (!(error instanceof MetaDbFormatError)) throw error;
      first ??= error;
    }
  }
  if (metas.length > 1 && first) {
    throw new MetaDbFormatError(path, `${first.problem}; the older meta page leads to a damaged tree too`, {
      cause: first,
    });
  }
  throw first ?? new MetaDbFormatError(path, 'no usable meta page');
}

/** The newest valid txid among the meta pages currently on disk, or undefined when none is valid. */
async function diskTxid(io: BoltFileIo, path: string, pageSize: number): Promise<bigint | undefined> {
  const head = await io.readHead(path, 2 * pageSize);
  return validMetas(head, pageSize).metas[0]?.txid;
}

/**
 * A read is consistent if containerd committed at most once after our copy of the meta pages was taken:
 * pages that the meta at txid N references are freed at the earliest by txid N+1 and can only be
 * rewritten by txid N+2 (bbolt releases pending pages when the next write transaction begins).
 */
function stable(meta: Pick<BoltMeta, 'txid'>, now: bigint | undefined): boolean {
  return now !== undefined && now <= meta.txid + 1n;
}

async function readWhole(io: BoltFileIo, path: string): Promise<Buffer> {
  try {
    return await io.readFile(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR')) {
      throw new MetaDbNotFoundError(`no meta.db at ${path}`, {
        input: path,
        hint: 'pass --meta-db PATH, or check containerd\'s "root" in its config (meta.db is <root>/io.containerd.metadata.v1.bolt/meta.db)',
        cause: error,
      });
    }
    if (isErrno(error, 'EISDIR')) throw new MetaDbFormatError(path, 'is a directory, not a bbolt file');
    throw new HostError(`cannot read ${path}: ${(error as Error).message}`, { input: path, cause: error });
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Reads the bbolt file at `path` without locking it. Re-reads (up to `attempts` times) when containerd
 * committed more than once during the read or when the copy turned out torn; a damaged file whose meta
 * pages did not move between reads is reported at once.
 */
export async function openBoltSnapshot(path: string, options: OpenBoltOptions = {}): Promise<BoltSnapshot> {
  const attempts = Math.max(1, options.attempts ?? 4);
  const delay = options.retryDelayMs ?? 25;
  const io = options.io ?? nodeBoltFileIo;
  let lastProblem = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 2) await sleep(delay * (attempt - 2));
    const buf = await readWhole(io, path);
    let snapshot: BoltSnapshot;
    try {
      snapshot = parseBolt(buf, path);
    } catch (error) {
      if (!(error instanceof MetaDbFormatError) || attempt === attempts) throw error;
      if (!(await headMoved(io, path, buf))) throw error;
      lastProblem = error.message;
      continue;
    }
    const now = await diskTxid(io, path, snapshot.pageSize);
    if (stable(snapshot, now)) return snapshot;
    lastProblem = `txid moved from ${snapshot.txid} to ${now ?? 'an unreadable meta page'} during the read`;
  }
  throw new MetaDbChangedError(`${path} kept changing while it was read (${lastProblem})`, {
    input: path,
    hint: 'containerd is committing heavily; run the command again, or stop containerd first',
  });
}

/** True when the file's first pages differ from the copy we read: a commit happened in between. */
async function headMoved(io: BoltFileIo, path: string, buf: Buffer): Promise<boolean> {
  const length = Math.min(buf.byteLength, 64 * 1024);
  const head = await io.readHead(path, length);
  return !head.equals(buf.subarray(0, length));
}

/**
 * File operations on real paths, each one safe to interrupt: writes go to a temp file in the same directory,
 * are fsynced and renamed over the target, so a reader (or a running binary) sees the old file or the new one,
 * never a half-written one, and an executing file is never opened for writing (no ETXTBSY). A run killed
 * mid-write leaves its temp file (`.<name>.kata-deploy-<pid>-<hex>`); `removeStaleTemps` takes those away on
 * the next run, under the node lock.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants, createReadStream, type Stats } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { HostError, isErrno } from '../errors/index.js';
import { faultPoint } from './faults.js';

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Hashes already taken by this process, by file identity: a run observes twice (before and under the lock). */
const hashes = new Map<string, string>();

export async function sha256File(path: string): Promise<string> {
  const st = await fsp.stat(path, { bigint: true });
  const key = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}:${path}`;
  const known = hashes.get(key);
  if (known !== undefined) return known;
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  const digest = hash.digest('hex');
  hashes.set(key, digest);
  return digest;
}

function fail(action: string, path: string, error: unknown): never {
  if (error instanceof HostError) throw error;
  const reason = error instanceof Error ? error.message : String(error);
  throw new HostError(`cannot ${action} ${path}: ${reason}`, { input: path, cause: error });
}

/** Names of the temp files kata-deploy writes beside a target (see `tempName`). */
export const TEMP_FILE = /^\..+\.kata-deploy-\d+-[0-9a-f]{8}$/;

export function tempName(path: string): string {
  return join(
    dirname(path),
    `.${basename(path)}.kata-deploy-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
}

export async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await fsp.readFile(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR')) return undefined;
    return fail('read', path, error);
  }
}

export async function lstatIfExists(path: string): Promise<Stats | undefined> {
  try {
    return await fsp.lstat(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR')) return undefined;
    return fail('stat', path, error);
  }
}

/** Like `lstatIfExists`, following a symlink in the last component. */
export async function statIfExists(path: string): Promise<Stats | undefined> {
  try {
    return await fsp.stat(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR', 'ELOOP')) return undefined;
    return fail('stat', path, error);
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await fsp.open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Creates missing directories; returns the ones it created, outermost first. */
export async function mkdirp(path: string, mode = 0o755): Promise<string[]> {
  const created: string[] = [];
  let dir = path;
  while ((await lstatIfExists(dir)) === undefined) {
    created.unshift(dir);
    dir = dirname(dir);
  }
  try {
    for (const d of created)
      await fsp
        .mkdir(d, { mode })
        .catch((e: unknown) => (isErrno(e, 'EEXIST') ? undefined : Promise.reject(e)));
  } catch (error) {
    fail('create the directory', path, error);
  }
  return created;
}

async function renameInto(temp: string, path: string): Promise<void> {
  try {
    await fsp.rename(temp, path);
    faultPoint('write.renamed');
    await fsyncDir(dirname(path));
  } catch (error) {
    await fsp.rm(temp, { force: true });
    fail('replace', path, error);
  }
}

export async function writeAtomic(path: string, data: Buffer | string, mode = 0o644): Promise<void> {
  await writeThroughTemp(path, mode, 'write', (handle) => handle.writeFile(data));
}

/** Copies `from` (anywhere) to `path` through a temp file and a rename. */
export async function copyAtomic(from: string, path: string, mode: number): Promise<void> {
  await writeThroughTemp(path, mode, `copy ${from} to`, async (handle) => {
    for await (const chunk of createReadStream(from)) await handle.write(chunk as Buffer);
  });
}

/**
 * Writes a stream to `path` through a temp file and a rename; with `sha256`, the content must hash to it or the
 * temp file is removed and nothing replaces `path`.
 */
export async function writeStreamAtomic(
  path: string,
  chunks: AsyncIterable<Uint8Array>,
  mode: number,
  sha256?: string,
): Promise<void> {
  await writeThroughTemp(path, mode, 'write', async (handle) => {
    const hash = createHash('sha256');
    for await (const chunk of chunks) {
      hash.update(chunk);
      await handle.write(chunk);
    }
    const got = hash.digest('hex');
    if (sha256 !== undefined && got !== sha256)
      throw new HostError(`the content has sha256 ${got}, expected ${sha256}`, { input: path });
  });
}

async function writeThroughTemp(
  path: string,
  mode: number,
  action: string,
  fill: (handle: fsp.FileHandle) => Promise<void>,
): Promise<void> {
  await mkdirp(dirname(path));
  const temp = tempName(path);
  try {
    const handle = await fsp.open(temp, 'wx', mode);
    try {
      faultPoint('write.opened');
      await fill(handle);
      faultPoint('write.written');
      await handle.chmod(mode);
      await handle.sync();
      faultPoint('write.synced');
    } finally {
      await handle.close();
    }
  } catch (error) {
    await fsp.rm(temp, { force: true });
    fail(action, path, error);
  }
  await renameInto(temp, path);
}

export async function symlinkAtomic(path: string, target: string): Promise<void> {
  await mkdirp(dirname(path));
  const temp = tempName(path);
  try {
    await fsp.symlink(target, temp);
    faultPoint('write.opened');
  } catch (error) {
    fail('create a symlink at', path, error);
  }
  await renameInto(temp, path);
}

/**
 * Removes kata-deploy's temp files (`TEMP_FILE`) directly in `dir`, or in the whole tree below it with
 * `recursive`. Only safe under the node lock: then no other kata-deploy is writing, and every such file is
 * left over from a run that was killed. Returns the removed paths.
 */
export async function removeStaleTemps(dir: string, recursive: boolean): Promise<string[]> {
  const removed: string[] = [];
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR')) return removed;
    return fail('list', dir, error);
  }
  for (const e of entries) {
    const path = join(dir, e.name);
    if (TEMP_FILE.test(e.name) && !e.isDirectory()) {
      if (await removeFile(path)) removed.push(path);
    } else if (recursive && e.isDirectory()) {
      removed.push(...(await removeStaleTemps(path, true)));
    }
  }
  return removed;
}

export async function removeFile(path: string): Promise<boolean> {
  try {
    await fsp.unlink(path);
    return true;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false;
    return fail('remove', path, error);
  }
}

export async function removeTree(path: string): Promise<void> {
  try {
    await fsp.rm(path, { recursive: true, force: true });
  } catch (error) {
    fail('remove the tree', path, error);
  }
}

/** Removes an empty directory; a missing or non-empty one, or a symlink (never ours), is left as it is. */
export async function removeDirIfEmpty(path: string): Promise<boolean> {
  if (!(await lstatIfExists(path))?.isDirectory()) return false;
  try {
    await fsp.rmdir(path);
    return true;
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTEMPTY', 'EEXIST', 'ENOTDIR')) return false;
    return fail('remove the directory', path, error);
  }
}

export interface TreeEntry {
  /** Path relative to the walked directory, `/`-separated. */
  readonly rel: string;
  readonly type: 'file' | 'dir' | 'symlink';
  readonly mode: number;
  readonly size: number;
  readonly linkTarget?: string;
}

/**
 * Every entry under `dir` (not following symlinks), sorted by path; empty when `dir` is missing. An entry that
 * is gone by the time it is looked at (another writer renamed or removed it: possible only outside the node
 * lock) is left out: it is not there. Any other error fails the whole listing.
 */
export async function walk(dir: string): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  const gone = <T>(p: Promise<T>): Promise<T | undefined> =>
    p.catch((error: unknown) => {
      if (isErrno(error, 'ENOENT')) return undefined;
      throw error;
    });
  const visit = async (rel: string): Promise<void> => {
    const names = (await gone(fsp.readdir(rel === '' ? dir : join(dir, rel))))?.sort() ?? [];
    for (const name of names) {
      const r = rel === '' ? name : `${rel}/${name}`;
      const st = await gone(fsp.lstat(join(dir, r)));
      if (st === undefined) continue;
      const mode = st.mode & 0o7777;
      if (st.isDirectory()) {
        out.push({ rel: r, type: 'dir', mode, size: 0 });
        await visit(r);
      } else if (st.isSymbolicLink()) {
        const linkTarget = await gone(fsp.readlink(join(dir, r)));
        if (linkTarget !== undefined) out.push({ rel: r, type: 'symlink', mode, size: 0, linkTarget });
      } else if (st.isFile()) {
        out.push({ rel: r, type: 'file', mode, size: st.size });
      }
    }
  };
  if ((await lstatIfExists(dir))?.isDirectory()) {
    try {
      await visit('');
    } catch (error) {
      fail('list', dir, error);
    }
  }
  return out;
}

/**
 * The node lock: one host-mutating kata-deploy run at a time, whatever its suffix. It is a kernel lock, flock(2)
 * on `<host-root>/run/lock/kata-deploy.lock`, so:
 *
 * - only one process holds it, and the kernel drops it the moment the holder dies (kill -9 included): nothing
 *   ever judges whether a holder is alive, which a pod outside the node's PID namespace could not judge anyway;
 * - the file's content (the holder's pid and start time) only names the holder in messages; an empty or stale
 *   file means nothing.
 *
 * The holder removes the file (and the directories it created for it) on release, while still holding the
 * lock. A waiter that locked the file just before it was removed finds, after locking, that the path no longer
 * names the file it locked, and starts over; so the file can be removed without two holders ever overlapping.
 * The descriptor is opened close-on-exec (libuv always does), so a service started under the lock never
 * inherits it.
 */
import {
  closeSync,
  constants,
  fstatSync,
  ftruncateSync,
  lstatSync,
  openSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { readFile, rmdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { HostError, isErrno } from '../errors/index.js';
import { faultPoint } from './faults.js';
import { loadFlock } from './flock.js';
import { mkdirp } from './fs.js';
import { formatIdentity, identify } from './proc.js';

export interface NodeLock {
  readonly path: string;
  release(): Promise<void>;
}

export interface LockOptions {
  /** How long to wait for another run to finish. */
  readonly waitMs: number;
  /** How often to try again while another run holds the lock (default 100 ms, with jitter). */
  readonly pollMs?: number;
  readonly onWait?: (holder: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Takes the lock at `path` (a real path, already resolved under the host root). */
export async function acquireLock(path: string, options: LockOptions): Promise<NodeLock> {
  const flock = await loadFlock();
  const self = identify(process.pid);
  if (self === undefined) throw new HostError('cannot read /proc/self/stat to identify this process');
  const deadline = Date.now() + options.waitMs;
  const poll = options.pollMs ?? 100;
  const created = new Set<string>();
  let warned = false;
  for (;;) {
    const fd = await openLockFile(path, created);
    if (fd === undefined) continue; // its directory was removed by a releasing holder
    faultPoint('lock.opened');
    let keep = false;
    try {
      while (!flock.tryExclusive(fd)) {
        const holder = await describeHolder(path);
        if (Date.now() >= deadline) {
          throw new HostError(`another kata-deploy (${holder}) holds the node lock ${path}`, {
            input: path,
            hint: 'wait for it to finish; the kernel releases the lock when its holder exits, killed or not',
          });
        }
        if (!warned) options.onWait?.(holder);
        warned = true;
        await sleep(poll / 2 + Math.random() * poll);
      }
      faultPoint('lock.locked');
      if (!namesSameFile(fd, path)) continue; // removed by the holder we waited for: lock the new one
      ftruncateSync(fd, 0);
      writeSync(fd, formatIdentity(self), 0);
      faultPoint('lock.written');
      keep = true;
      return { path, release: releaser(fd, path, created) };
    } finally {
      if (!keep) closeSync(fd);
    }
  }
}

/** Opens (creating) the lock file; undefined when a directory on the way vanished meanwhile. */
async function openLockFile(path: string, created: Set<string>): Promise<number | undefined> {
  try {
    for (const dir of await mkdirp(dirname(path))) created.add(dir);
    return openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
  } catch (error) {
    if (isErrno(error, 'ENOENT') || (error instanceof HostError && isErrno(error.cause, 'ENOENT')))
      return undefined;
    if (isErrno(error, 'ELOOP')) {
      throw new HostError(`the node lock ${path} is a symlink`, {
        input: path,
        hint: 'remove the link; kata-deploy creates the lock file itself',
        cause: error,
      });
    }
    if (error instanceof HostError) throw error;
    throw new HostError(`cannot open the node lock ${path}: ${String(error)}`, { input: path, cause: error });
  }
}

function namesSameFile(fd: number, path: string): boolean {
  try {
    const held = fstatSync(fd);
    const named = lstatSync(path);
    return held.ino === named.ino && held.dev === named.dev;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false;
    throw error;
  }
}

async function describeHolder(path: string): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const pid = /^(\d+) /.exec(text)?.[1];
  return pid === undefined ? 'a process that just took it' : `pid ${pid}`;
}

function releaser(fd: number, path: string, created: ReadonlySet<string>): () => Promise<void> {
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    try {
      if (namesSameFile(fd, path)) unlinkSync(path);
      faultPoint('lock.unlinked');
    } finally {
      closeSync(fd);
    }
    // Deepest first; a directory somebody else uses now is not empty and stays.
    for (const dir of [...created].reverse()) {
      await rmdir(dir).catch((e: unknown) => {
        if (!isErrno(e, 'ENOENT', 'ENOTEMPTY', 'EEXIST')) throw e;
      });
    }
  };
}

/**
 * The node lock: one host-mutating kata-deploy run at a time, whatever its suffix. A lock file created with
 * O_EXCL holds the owner's pid and start time; a lock whose owner is gone (killed mid-run) is stale and taken
 * over, so a crash never wedges the node.
 */
import { constants } from 'node:fs';
import * as fsp from 'node:fs/promises';
import { dirname } from 'node:path';
import { HostError, isErrno } from '../errors/index.js';
import { mkdirp, readIfExists } from './fs.js';
import { formatIdentity, identify, isRunning, parseIdentity } from './proc.js';

export interface NodeLock {
  readonly path: string;
  release(): Promise<void>;
}

export interface LockOptions {
  /** How long to wait for another run to finish. */
  readonly waitMs: number;
  readonly pollMs?: number;
  readonly onWait?: (holder: string) => void;
}

export async function acquireLock(path: string, options: LockOptions): Promise<NodeLock> {
  const self = identify(process.pid);
  if (self === undefined) throw new HostError('cannot read /proc/self/stat to identify this process');
  const content = formatIdentity(self);
  await mkdirp(dirname(path));
  const deadline = Date.now() + options.waitMs;
  let warned = false;
  for (;;) {
    try {
      const handle = await fsp.open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
      try {
        await handle.writeFile(content);
        await handle.sync();
      } finally {
        await handle.close();
      }
      return { path, release: () => release(path, content) };
    } catch (error) {
      if (!isErrno(error, 'EEXIST')) {
        throw new HostError(`cannot create the node lock ${path}: ${String(error)}`, {
          input: path,
          cause: error,
        });
      }
    }
    const holderText = (await readIfExists(path))?.toString('utf8');
    if (holderText === undefined) continue; // released between our open and read
    const holder = parseIdentity(holderText);
    if (holder === undefined || !isRunning(holder)) {
      await takeOverStale(path, holderText);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new HostError(`another kata-deploy (pid ${holder.pid}) holds the node lock ${path}`, {
        input: path,
        hint: 'wait for it to finish; a lock whose process has died is taken over automatically',
      });
    }
    if (!warned) options.onWait?.(`pid ${holder.pid}`);
    warned = true;
    await new Promise((r) => setTimeout(r, options.pollMs ?? 200));
  }
}

/** Moves the stale lock aside and deletes it only if it is still the one we judged stale. */
async function takeOverStale(path: string, staleText: string): Promise<void> {
  const aside = `${path}.stale-${process.pid}`;
  try {
    await fsp.rename(path, aside);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return;
    throw new HostError(`cannot take over the stale node lock ${path}: ${String(error)}`, { input: path });
  }
  const moved = (await readIfExists(aside))?.toString('utf8');
  if (moved !== staleText) {
    // A live run re-created the lock in between and we moved its file: put it back (link fails if taken again).
    await fsp.link(aside, path).catch(() => undefined);
  }
  await fsp.rm(aside, { force: true });
}

async function release(path: string, content: string): Promise<void> {
  const now = (await readIfExists(path))?.toString('utf8');
  if (now === content) await fsp.rm(path, { force: true });
}

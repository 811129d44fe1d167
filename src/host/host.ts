/**
 * The one way to touch the machine. Every path argument is a node path, resolved under `--host-root` as the
 * node resolves it (symlinks never lead out of the root; see paths.ts); every write is atomic; programs run
 * with a deadline. Tests build a real Host on a temporary root.
 */
import type { Stats } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as hostFs from './fs.js';
import { exec, execOk, type ExecOptions, type ExecResult } from './exec.js';
import { acquireLock, type LockOptions, type NodeLock } from './lock.js';
import { resolveForWrite, resolveInRoot } from './paths.js';
import { unmountUnder } from './mounts.js';
import { processSupervisor } from './service/process.js';
import { systemdManager } from './service/systemd.js';
import type { ServiceManager } from './service/types.js';

/** Node directory of short-lived scratch files (a config handed to `containerd config dump`). */
export const SCRATCH_DIR = '/run/kata-deploy/scratch';

export interface Host {
  readonly root: string;
  readonly services: ServiceManager;
  /** The path of a node path as this process sees it (symlinks resolved in the root). */
  path(nodePath: string): string;
  read(nodePath: string): Promise<Buffer | undefined>;
  readText(nodePath: string): Promise<string | undefined>;
  /** Does not follow a symlink in the last component. */
  lstat(nodePath: string): Promise<Stats | undefined>;
  /** Follows a symlink in the last component (in the root). */
  stat(nodePath: string): Promise<Stats | undefined>;
  writeAtomic(nodePath: string, data: Buffer | string, mode?: number): Promise<void>;
  /** Copies a file from outside the host root (the payload) to a node path. */
  copyIn(from: string, nodePath: string, mode: number): Promise<void>;
  /** Writes a stream (a payload member) to a node path; with `sha256`, only content that hashes to it. */
  writeFrom(
    nodePath: string,
    chunks: AsyncIterable<Uint8Array>,
    mode: number,
    sha256?: string,
  ): Promise<void>;
  symlink(nodePath: string, target: string): Promise<void>;
  remove(nodePath: string): Promise<boolean>;
  removeTree(nodePath: string): Promise<void>;
  /** Removes an empty directory; a symlink to one is not ours and is left alone. */
  removeDirIfEmpty(nodePath: string): Promise<boolean>;
  /** Creates missing directories; returns the node paths it created, outermost first. */
  mkdirp(nodePath: string): Promise<string[]>;
  walk(nodePath: string): Promise<hostFs.TreeEntry[]>;
  sha256(nodePath: string): Promise<string | undefined>;
  /**
   * Throws a UsageError, before anything is written, when `nodePath` cannot be written inside the root: a
   * directory on the way is a symlink leading nowhere under the root, or is not a directory.
   */
  checkWritable(nodePath: string): void;
  /**
   * Removes kata-deploy's temp files left by killed runs in these directories (`recursive`: and below them).
   * Call it only under the node lock. Returns the node paths removed.
   */
  removeStaleTemps(dirs: readonly string[], recursive?: readonly string[]): Promise<string[]>;
  /**
   * A new empty directory under `SCRATCH_DIR` (a real path, for programs this process runs), never in the
   * machine's /tmp; `removeScratchDir` takes it away, and `removeStaleTemps` the ones of killed runs.
   */
  makeScratchDir(purpose: string): Promise<string>;
  removeScratchDir(realPath: string): Promise<void>;
  exec(command: string, args: readonly string[], options: ExecOptions): Promise<ExecResult>;
  execOk(command: string, args: readonly string[], options: ExecOptions): Promise<ExecResult>;
  lock(nodePath: string, options: LockOptions): Promise<NodeLock>;
  /** Unmounts every mount point below a node path, deepest first; returns those still mounted. */
  unmountUnder(nodePath: string): Promise<string[]>;
}

export interface HostOptions {
  readonly root: string;
  readonly serviceManager: 'systemd' | 'process' | ServiceManager;
  /** Node path of the process supervisor's spec directory. */
  readonly serviceSpecDir?: string;
}

export function createHost(options: HostOptions): Host {
  const { root } = options;
  const path = (nodePath: string) => resolveInRoot(root, nodePath).real;
  const noFollow = (nodePath: string) => resolveInRoot(root, nodePath, { followLast: false }).real;
  const forWrite = (nodePath: string) => resolveForWrite(root, nodePath);
  const toNode = (real: string) => (root === '/' ? real : real.slice(root.length) || '/');
  const services =
    typeof options.serviceManager === 'object'
      ? options.serviceManager
      : options.serviceManager === 'systemd'
        ? systemdManager({ hostRoot: root })
        : processSupervisor({
            hostRoot: root,
            specDir: options.serviceSpecDir ?? '/etc/kata-deploy/services',
          });
  // Ours by name, so removed once empty: a run leaves no trace in the node's /run.
  const removeScratchParents = async () => {
    for (const dir of [SCRATCH_DIR, SCRATCH_DIR.slice(0, SCRATCH_DIR.lastIndexOf('/'))])
      await hostFs.removeDirIfEmpty(noFollow(dir));
  };
  return {
    root,
    services,
    path,
    read: (p) => hostFs.readIfExists(path(p)),
    readText: async (p) => (await hostFs.readIfExists(path(p)))?.toString('utf8'),
    lstat: (p) => hostFs.lstatIfExists(noFollow(p)),
    stat: (p) => hostFs.statIfExists(path(p)),
    writeAtomic: async (p, data, mode) => hostFs.writeAtomic(forWrite(p), data, mode),
    copyIn: async (from, p, mode) => hostFs.copyAtomic(from, forWrite(p), mode),
    writeFrom: async (p, chunks, mode, sha256) => hostFs.writeStreamAtomic(forWrite(p), chunks, mode, sha256),
    symlink: async (p, target) => hostFs.symlinkAtomic(forWrite(p), target),
    remove: (p) => hostFs.removeFile(noFollow(p)),
    removeTree: (p) => hostFs.removeTree(noFollow(p)),
    removeDirIfEmpty: (p) => hostFs.removeDirIfEmpty(noFollow(p)),
    async mkdirp(p) {
      forWrite(p);
      return (await hostFs.mkdirp(path(p))).map(toNode);
    },
    walk: (p) => hostFs.walk(path(p)),
    async sha256(p) {
      const real = noFollow(p);
      const st = await hostFs.lstatIfExists(real);
      return st?.isFile() ? hostFs.sha256File(real) : undefined;
    },
    checkWritable: (p) => void forWrite(p),
    async removeStaleTemps(dirs, recursive = []) {
      const removed: string[] = [];
      for (const dir of new Set(dirs)) removed.push(...(await hostFs.removeStaleTemps(path(dir), false)));
      for (const dir of new Set(recursive)) removed.push(...(await hostFs.removeStaleTemps(path(dir), true)));
      for (const entry of await hostFs.walk(path(SCRATCH_DIR))) {
        if (entry.rel.includes('/')) continue;
        await hostFs.removeTree(`${path(SCRATCH_DIR)}/${entry.rel}`);
        removed.push(`${path(SCRATCH_DIR)}/${entry.rel}`);
      }
      await removeScratchParents();
      return removed.map(toNode);
    },
    async makeScratchDir(purpose) {
      const name = `${purpose.replace(/[^a-z0-9-]/gi, '')}-${process.pid}-${randomBytes(4).toString('hex')}`;
      const dir = forWrite(`${SCRATCH_DIR}/${name}`);
      await hostFs.mkdirp(dir, 0o700);
      return dir;
    },
    async removeScratchDir(dir) {
      if (!dir.startsWith(`${path(SCRATCH_DIR)}/`)) throw new Error(`${dir} is not a scratch directory`);
      await hostFs.removeTree(dir);
      await removeScratchParents();
    },
    exec,
    execOk,
    lock: async (p, lockOptions) => acquireLock(forWrite(p), lockOptions),
    unmountUnder: (p) => unmountUnder(path(p)),
  };
}

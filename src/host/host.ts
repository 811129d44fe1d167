/**
 * The one way to touch the machine. Every path argument is a node path, mapped under `--host-root`; every
 * write is atomic; programs run with a deadline. Tests build a real Host on a temporary root.
 */
import type { Stats } from 'node:fs';
import * as hostFs from './fs.js';
import { exec, execOk, type ExecOptions, type ExecResult } from './exec.js';
import { acquireLock, type LockOptions, type NodeLock } from './lock.js';
import { underRoot } from './paths.js';
import { unmountUnder } from './mounts.js';
import { processSupervisor } from './service/process.js';
import { systemdManager } from './service/systemd.js';
import type { ServiceManager } from './service/types.js';

export interface Host {
  readonly root: string;
  readonly services: ServiceManager;
  /** The path of a node path as this process sees it. */
  path(nodePath: string): string;
  read(nodePath: string): Promise<Buffer | undefined>;
  readText(nodePath: string): Promise<string | undefined>;
  lstat(nodePath: string): Promise<Stats | undefined>;
  writeAtomic(nodePath: string, data: Buffer | string, mode?: number): Promise<void>;
  /** Copies a file from outside the host root (the payload) to a node path. */
  copyIn(from: string, nodePath: string, mode: number): Promise<void>;
  symlink(nodePath: string, target: string): Promise<void>;
  remove(nodePath: string): Promise<boolean>;
  removeTree(nodePath: string): Promise<void>;
  removeDirIfEmpty(nodePath: string): Promise<boolean>;
  /** Creates missing directories; returns the node paths it created, outermost first. */
  mkdirp(nodePath: string): Promise<string[]>;
  walk(nodePath: string): Promise<hostFs.TreeEntry[]>;
  sha256(nodePath: string): Promise<string | undefined>;
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
  const path = (nodePath: string) => underRoot(root, nodePath);
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
  return {
    root,
    services,
    path,
    read: (p) => hostFs.readIfExists(path(p)),
    readText: async (p) => (await hostFs.readIfExists(path(p)))?.toString('utf8'),
    lstat: (p) => hostFs.lstatIfExists(path(p)),
    writeAtomic: (p, data, mode) => hostFs.writeAtomic(path(p), data, mode),
    copyIn: (from, p, mode) => hostFs.copyAtomic(from, path(p), mode),
    symlink: (p, target) => hostFs.symlinkAtomic(path(p), target),
    remove: (p) => hostFs.removeFile(path(p)),
    removeTree: (p) => hostFs.removeTree(path(p)),
    removeDirIfEmpty: (p) => hostFs.removeDirIfEmpty(path(p)),
    mkdirp: async (p) => (await hostFs.mkdirp(path(p))).map(toNode),
    walk: (p) => hostFs.walk(path(p)),
    async sha256(p) {
      const st = await hostFs.lstatIfExists(path(p));
      return st?.isFile() ? hostFs.sha256File(path(p)) : undefined;
    },
    exec,
    execOk,
    lock: (p, lockOptions) => acquireLock(path(p), lockOptions),
    unmountUnder: (p) => unmountUnder(path(p)),
  };
}

/**
 * Mounts below a directory, and unmounting them deepest first, in one mount namespace: this process's own
 * (`/proc/self/mountinfo`, real paths), or the node's, reached through its PID 1 in the node's /proc
 * (`<proc>/1/mountinfo`, node paths; `nsenter --mount=<proc>/1/ns/mnt umount …`: setns into a mount namespace
 * is refused to a multi-threaded process such as Node, so a child enters it). Only mount points strictly
 * inside the directory are touched, never the directory itself or anything outside it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from '../errors/index.js';
import { exec, type ExecResult } from './exec.js';

/** Decodes mountinfo's octal escapes (`\040` space, `\011` tab, `\012` newline, `\134` backslash). */
export function decodeMountinfoField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Mount points of a mountinfo text (field 5), escapes decoded. */
export function mountPoints(mountinfo: string): string[] {
  return mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined && p !== '')
    .map(decodeMountinfoField);
}

/** Mount points strictly below `dir`, deepest first. */
export function mountPointsUnder(mountinfo: string, dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const found = [...new Set(mountPoints(mountinfo).filter((p) => p.startsWith(prefix)))];
  return found.sort((a, b) => b.split('/').length - a.split('/').length || b.localeCompare(a));
}

/** One mount namespace: its mount table and its umount. */
export interface MountNamespace {
  /** The mountinfo file read, for messages. */
  readonly table: string;
  readMountinfo(): Promise<string>;
  umount(args: readonly string[]): Promise<ExecResult>;
}

const UMOUNT_TIMEOUT_MS = 15_000;

/** This process's own mount namespace: real paths. */
export function ownMountNamespace(): MountNamespace {
  const table = '/proc/self/mountinfo';
  return {
    table,
    readMountinfo: () => readFile(table, 'utf8'),
    umount: (args) => exec('umount', args, { timeoutMs: UMOUNT_TIMEOUT_MS }),
  };
}

/** The mount namespace of PID 1 of the /proc at `proc` (the node's): node paths, the node's own umount. */
export function pid1MountNamespace(proc: string): MountNamespace {
  const table = join(proc, '1/mountinfo');
  return {
    table,
    readMountinfo: () => readFile(table, 'utf8'),
    umount: (args) =>
      exec('nsenter', [`--mount=${join(proc, '1/ns/mnt')}`, '--', 'umount', ...args], {
        timeoutMs: UMOUNT_TIMEOUT_MS,
      }),
  };
}

/** A mount point left in place, or a table that could not be read, with the cause when one is known. */
export interface MountLeft {
  readonly point: string;
  readonly why?: string;
}

/**
 * Unmounts everything below `dir` (a path in `ns`), lazily when busy, in up to three rounds (a mount hidden
 * under another one comes out once the upper one is gone). Returns what is still mounted afterwards; a mount
 * table that cannot be read is returned as `dir` itself with the cause, never as "nothing mounted".
 */
export async function unmountUnder(dir: string, ns: MountNamespace): Promise<MountLeft[]> {
  const failures = new Map<string, string>();
  const current = async (): Promise<{ points: string[] } | { unread: MountLeft }> => {
    try {
      return { points: mountPointsUnder(await ns.readMountinfo(), dir) };
    } catch (error) {
      return {
        unread: { point: dir, why: `cannot read ${ns.table} (${errnoCode(error) ?? String(error)})` },
      };
    }
  };
  for (let round = 0; round < 3; round++) {
    const mounts = await current();
    if ('unread' in mounts) return [mounts.unread];
    if (mounts.points.length === 0) return [];
    for (const m of mounts.points) {
      if ((await tryUmount(ns, [m])) === undefined) continue;
      const lazy = await tryUmount(ns, ['-l', m]);
      if (lazy === undefined) failures.delete(m);
      else failures.set(m, lazy);
    }
  }
  const left = await current();
  if ('unread' in left) return [left.unread];
  return left.points.map((point) => {
    const why = failures.get(point);
    return why === undefined ? { point } : { point, why };
  });
}

/** undefined when it worked; else the cause (umount's last line, or why it could not run). */
async function tryUmount(ns: MountNamespace, args: readonly string[]): Promise<string | undefined> {
  try {
    const r = await ns.umount(args);
    if (r.code === 0) return undefined;
    return r.stderr.trim().split('\n').at(-1) || `umount exited ${r.code ?? r.signal}`;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

export function describeMountLeft(m: MountLeft): string {
  return m.why === undefined ? m.point : `${m.point} (${m.why})`;
}

/**
 * Mounts below a directory, from /proc/self/mountinfo, and unmounting them deepest first. Only mount points
 * strictly inside the directory are touched, never the directory itself or anything outside it.
 */
import { readFile } from 'node:fs/promises';
import { exec } from './exec.js';

/** Mount points of a mountinfo text (field 5), octal escapes decoded. */
export function mountPoints(mountinfo: string): string[] {
  return mountinfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => p !== undefined && p !== '')
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
}

/** Mount points strictly below `dir`, deepest first. */
export function mountPointsUnder(mountinfo: string, dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const found = [...new Set(mountPoints(mountinfo).filter((p) => p.startsWith(prefix)))];
  return found.sort((a, b) => b.split('/').length - a.split('/').length || b.localeCompare(a));
}

/** Unmounts everything below `dir` (lazily when busy); returns the mount points still there afterwards. */
export async function unmountUnder(dir: string): Promise<string[]> {
  const current = async () => mountPointsUnder(await readFile('/proc/self/mountinfo', 'utf8'), dir);
  for (let round = 0; round < 3; round++) {
    const mounts = await current();
    if (mounts.length === 0) return [];
    for (const m of mounts) {
      const plain = await exec('umount', [m], { timeoutMs: 15_000 });
      if (plain.code !== 0) await exec('umount', ['-l', m], { timeoutMs: 15_000 });
    }
  }
  return current();
}

// Mounts under a bed's root (container rootfs overlays, nydus snapshot mounts): found through
// /proc/self/mountinfo and unmounted deepest first. Nothing outside the given root is ever touched.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { run } from './exec.js';

export interface MountEntry {
  id: number;
  parentId: number;
  mountPoint: string;
  fsType: string;
  source: string;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo octal. */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const fields = line.split(' ');
    const separator = fields.indexOf('-');
    const mountPoint = fields[4];
    if (fields.length < 7 || separator < 6 || mountPoint === undefined) {
      throw new Error(`cannot parse mountinfo line: ${JSON.stringify(line)}`);
    }
    entries.push({
      id: Number(fields[0]),
      parentId: Number(fields[1]),
      mountPoint: unescapeMountField(mountPoint),
      fsType: fields[separator + 1] ?? '',
      source: unescapeMountField(fields[separator + 2] ?? ''),
    });
  }
  return entries;
}

export function isUnder(child: string, root: string): boolean {
  const normalRoot = path.resolve(root);
  const normalChild = path.resolve(child);
  return (
    normalChild === normalRoot ||
    normalChild.startsWith(normalRoot.endsWith('/') ? normalRoot : `${normalRoot}/`)
  );
}

/** Mounts at or below root, deepest path first and, on the same path, the most recent mount first. */
export function mountsUnderIn(entries: readonly MountEntry[], root: string): MountEntry[] {
  if (path.resolve(root) === '/') throw new Error('refusing to treat / as a bed root');
  return entries
    .filter((m) => isUnder(m.mountPoint, root))
    .sort((a, b) => b.mountPoint.split('/').length - a.mountPoint.split('/').length || b.id - a.id);
}

export async function mountsUnder(root: string): Promise<MountEntry[]> {
  return mountsUnderIn(parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8')), root);
}

export function mountsUnderSync(root: string): MountEntry[] {
  return mountsUnderIn(parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')), root);
}

/** Unmounts everything below root (lazily when busy). Returns what is still mounted afterwards. */
export async function unmountUnder(root: string): Promise<MountEntry[]> {
  for (let round = 0; round < 5; round++) {
    const mounts = await mountsUnder(root);
    if (mounts.length === 0) return [];
    for (const m of mounts) {
      const plain = await run('umount', [m.mountPoint], { allowFail: true, timeoutMs: 15_000 });
      if (plain.code !== 0) await run('umount', ['-l', m.mountPoint], { allowFail: true, timeoutMs: 15_000 });
    }
  }
  return mountsUnder(root);
}

/** The exit-handler variant: lazy unmounts, no waiting on anything asynchronous. */
export function unmountUnderSync(root: string): MountEntry[] {
  for (let round = 0; round < 5; round++) {
    const mounts = mountsUnderSync(root);
    if (mounts.length === 0) return [];
    for (const m of mounts) spawnSync('umount', ['-l', m.mountPoint], { stdio: 'ignore', timeout: 10_000 });
  }
  return mountsUnderSync(root);
}

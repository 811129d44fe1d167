/**
 * The bed's cgroup: a cgroup v2 directory below this process's own, which becomes the root of the bed's
 * cgroup namespace. systemd sees only it (its /sys/fs/cgroup is a cgroup2 mount made inside that namespace),
 * so every slice, unit and container it or containerd creates lands below it, and nothing of the machine's
 * cgroup v1 hierarchies or other cgroups is touched. Teardown removes it, deepest first.
 */
import { readdirSync, readFileSync, rmdirSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseMountinfo } from '../mounts.js';

/** Where this process's cgroup v2 directory is, or undefined when the machine mounts no cgroup2. */
export function ownCgroup2Dir(): string | undefined {
  const mount = parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')).find(
    (m) => m.fsType === 'cgroup2',
  );
  const line = readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('0::'));
  if (mount === undefined || line === undefined) return undefined;
  return join(mount.mountPoint, line.slice(3));
}

export function createBedCgroup(name: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`unsafe cgroup name "${name}"`);
  const parent = ownCgroup2Dir();
  if (parent === undefined) {
    throw new Error('the systemd bed needs a cgroup v2 hierarchy (none is mounted on this machine)');
  }
  const dir = join(parent, name);
  mkdirSync(dir);
  return dir;
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join(dir, e.name));
  } catch {
    return [];
  }
}

/** The directory and everything below it, deepest first. */
function tree(dir: string): string[] {
  return [...subdirs(dir).flatMap(tree), dir];
}

/** Every process in the cgroup or below it. */
export function cgroupTreePids(dir: string): number[] {
  const pids = new Set<number>();
  for (const d of tree(dir)) {
    try {
      for (const line of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n'))
        if (/^\d+$/.test(line)) pids.add(Number(line));
    } catch {
      // removed meanwhile
    }
  }
  return [...pids];
}

/** Removes the cgroup tree; returns the directories that stayed (busy or not removable). */
export function removeCgroupTree(dir: string): string[] {
  const left: string[] = [];
  for (const d of tree(dir)) {
    try {
      rmdirSync(d);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') left.push(d);
    }
  }
  return left;
}

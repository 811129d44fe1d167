// The per-bed cgroup parent (`/<cgroupName>/…`, passed to `ctr run --cgroup`): runc creates it in every
// hierarchy, and task delete only removes the container's own leaf, so teardown removes the rest.
import { readdirSync, readFileSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { parseMountinfo } from './mounts.js';

function cgroupMountPoints(): string[] {
  return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'))
    .filter((m) => m.fsType === 'cgroup' || m.fsType === 'cgroup2')
    .map((m) => m.mountPoint);
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => path.join(dir, e.name));
  } catch {
    return [];
  }
}

function walk(dir: string, visit: (dir: string) => void): void {
  for (const sub of subdirs(dir)) walk(sub, visit);
  visit(dir);
}

function bedCgroupDirs(cgroupName: string): string[] {
  if (!/^[A-Za-z0-9_-]+$/.test(cgroupName)) throw new Error(`unsafe cgroup name "${cgroupName}"`);
  return cgroupMountPoints().map((mp) => path.join(mp, cgroupName));
}

/** Every process in the bed's cgroups (container processes, whatever they forked). */
export function cgroupPids(cgroupName: string): number[] {
  const pids = new Set<number>();
  for (const top of bedCgroupDirs(cgroupName)) {
    walk(top, (dir) => {
      try {
        for (const line of readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n')) {
          if (/^\d+$/.test(line)) pids.add(Number(line));
        }
      } catch {
        // not there (any more)
      }
    });
  }
  return [...pids];
}

/** Removes the bed's cgroup directories, leaves first. Returns the ones that could not be removed. */
export function removeCgroups(cgroupName: string): string[] {
  const left: string[] = [];
  for (const top of bedCgroupDirs(cgroupName)) {
    walk(top, (dir) => {
      try {
        rmdirSync(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') left.push(dir);
      }
    });
  }
  return left;
}

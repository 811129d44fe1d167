/**
 * Leaving nothing running: the services through the supervisor, then by pid whatever this sandbox started and
 * is still alive (container processes in its cgroup parent, shims serving its containerd), then mounts under
 * its root, its cgroups and its files. Only processes tied to this sandbox's root or cgroup are signalled.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { mountsUnder, parseMountinfo, pidAlive, pidsMentioning } from '../test/bed/index.js';
import type { Host } from '../src/host/index.js';

export interface LeftoverReport {
  /** What had to be done beyond the orderly stop, for the report. */
  readonly notes: string[];
  /** Anything that could not be ended or removed: non-empty means the sandbox failed. */
  readonly problems: string[];
}

function cgroupDirs(parent: string): string[] {
  const mounts = parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
  return mounts
    .filter((m) => m.fsType === 'cgroup' || m.fsType === 'cgroup2')
    .map((m) => join(m.mountPoint, parent));
}

/** Every directory below (and including) dir, deepest first. */
function walk(dir: string): string[] {
  let subs: string[] = [];
  try {
    subs = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join(dir, e.name));
  } catch {
    return [];
  }
  return [...subs.flatMap(walk), dir];
}

function cgroupPids(parent: string): number[] {
  const pids = new Set<number>();
  for (const dir of cgroupDirs(parent).flatMap(walk)) {
    try {
      for (const line of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n'))
        if (/^\d+$/.test(line)) pids.add(Number(line));
    } catch {
      // gone meanwhile
    }
  }
  return [...pids];
}

/** Removes the cgroup parent in every hierarchy, leaves first; returns the directories that stayed. */
function removeCgroups(parent: string): string[] {
  const left: string[] = [];
  for (const dir of cgroupDirs(parent).flatMap(walk)) {
    try {
      rmdirSync(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') left.push(dir);
    }
  }
  return left;
}

async function waitGone(pids: number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  let left = pids.filter(pidAlive);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    left = left.filter(pidAlive);
  }
  return left;
}

/** Pids the supervisor recorded for units of this root (pid file: "<pid> <start time>"). */
function supervisedPids(root: string): number[] {
  const dir = join(root, 'run/kata-deploy/services');
  try {
    return readdirSync(dir)
      .map((f) => Number(readFileSync(join(dir, f), 'utf8').split(' ')[0]))
      .filter((pid) => Number.isInteger(pid) && pid > 0);
  } catch {
    return [];
  }
}

export async function endEverything(opts: {
  host: Host;
  root: string;
  units: readonly string[];
  cgroupParent: string;
}): Promise<LeftoverReport> {
  const notes: string[] = [];
  const problems: string[] = [];
  for (const unit of opts.units) {
    try {
      if (await opts.host.services.isActive(unit)) {
        await opts.host.services.stop(unit);
        notes.push(`stopped ${unit} through the supervisor`);
      }
    } catch (error) {
      problems.push(`stopping ${unit}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const stray = [
    ...new Set([
      ...supervisedPids(opts.root),
      ...cgroupPids(opts.cgroupParent),
      ...pidsMentioning(opts.root),
    ]),
  ].filter((pid) => pid !== process.pid && pidAlive(pid));
  for (const pid of stray) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
  if (stray.length > 0) notes.push(`killed leftover pids ${stray.join(', ')}`);
  const alive = await waitGone(stray, 10_000);
  if (alive.length > 0) problems.push(`still alive after SIGKILL: ${alive.join(', ')}`);

  for (let round = 0; round < 5; round++) {
    const mounts = await mountsUnder(opts.root);
    if (mounts.length === 0) break;
    if (round === 0) notes.push(`unmounted ${mounts.length} mounts under the root`);
    for (const m of mounts) {
      const plain = spawnSync('umount', [m.mountPoint], { stdio: 'ignore', timeout: 15_000 });
      if (plain.status !== 0) spawnSync('umount', ['-l', m.mountPoint], { stdio: 'ignore', timeout: 15_000 });
    }
  }
  const mounted = await mountsUnder(opts.root);
  if (mounted.length > 0) problems.push(`still mounted: ${mounted.map((m) => m.mountPoint).join(', ')}`);

  for (const dir of removeCgroups(opts.cgroupParent)) problems.push(`cgroup ${dir} not removed`);
  return { notes, problems };
}

/** Removes the root, never below a live mount (that would delete inside the mounted file system). */
export async function removeTree(dir: string): Promise<void> {
  if ((await mountsUnder(dir)).length > 0) throw new Error(`${dir} still has mounts: not removed`);
  await rm(dir, { recursive: true, force: true });
}

function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

/**
 * The synchronous last resort (signal handler), and with `dryRun` the final check: what of this sandbox is
 * still alive. Kills by pid, then removes the root and work dir unless `keep`.
 */
export function killEverythingSync(opts: {
  root: string | undefined;
  work: string;
  cgroupParent: string;
  keep: boolean;
  dryRun?: boolean;
}): string[] {
  const pids = new Set(cgroupPids(opts.cgroupParent));
  if (opts.root !== undefined) {
    for (const pid of [...supervisedPids(opts.root), ...pidsMentioning(opts.root)]) pids.add(pid);
  }
  const alive = [...pids].filter((pid) => pid !== process.pid && pidAlive(pid));
  const described = alive.map((pid) => `pid ${pid} (${commOf(pid)})`);
  if (opts.dryRun) return described;
  for (const pid of alive) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // exited meanwhile
    }
  }
  const deadline = Date.now() + 3_000;
  while (alive.some(pidAlive) && Date.now() < deadline)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  removeCgroups(opts.cgroupParent);
  if (!opts.keep) {
    for (const dir of [opts.root, opts.work]) {
      if (dir === undefined) continue;
      const mounts = parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')).filter(
        (m) => m.mountPoint === dir || m.mountPoint.startsWith(`${dir}/`),
      );
      for (const m of mounts.reverse()) spawnSync('umount', ['-l', m.mountPoint], { stdio: 'ignore' });
      if (mounts.length === 0) rmSync(dir, { recursive: true, force: true });
    }
  }
  return described;
}

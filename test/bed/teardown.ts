// Ending a bed: tasks first (through containerd, so runc and the shims clean up after themselves), then
// whatever is left by pid, then the daemons, then mounts, cgroups and files. Only what the bed started is
// killed: the pids it spawned, shims serving its socket, and processes inside its own cgroups.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { RunResult } from './exec.js';
import { cgroupPids, removeCgroups } from './cgroups.js';
import type { BedLayout } from './layout.js';
import { unmountUnder, unmountUnderSync, type MountEntry } from './mounts.js';
import type { ManagedNydus } from './nydus.js';
import { killPid, pidsMentioning, waitForPidsGone, waitForPidsGoneSync, type Service } from './processes.js';

export interface TeardownTarget {
  layout: BedLayout;
  containerd: Service;
  nydus: ManagedNydus | undefined;
  taskPids: Set<number>;
  /** `namespace/id` of every task the bed started or saw, to find their shim sockets. */
  tasks: Set<string>;
  ctr(
    args: string[],
    opts: { namespace?: string; allowFail?: boolean; timeoutMs?: number },
  ): Promise<RunResult>;
}

/** Shims started by this bed's containerd carry `-address <socket>` on their command line. */
export function strayPids(t: TeardownTarget): number[] {
  const pids = new Set<number>([...t.taskPids, ...cgroupPids(t.layout.cgroupName)]);
  for (const pid of pidsMentioning(`-address ${t.layout.socket}`)) pids.add(pid);
  return [...pids];
}

/**
 * A shim listens on /run/containerd/s/<sha256(containerd address/namespace/id)>, outside the bed, whatever
 * the config says. It removes the socket when it exits cleanly, but not when killed, so teardown does.
 */
function removeShimSockets(t: TeardownTarget): void {
  for (const task of t.tasks) {
    const hash = createHash('sha256').update(`${t.layout.socket}/${task}`).digest('hex');
    rmSync(`/run/containerd/s/${hash}`, { force: true });
  }
}

async function deleteTasks(t: TeardownTarget): Promise<void> {
  if (!t.containerd.running()) return;
  const namespaces = await t.ctr(['namespaces', 'ls', '-q'], { allowFail: true, timeoutMs: 5_000 });
  if (namespaces.code !== 0) return;
  for (const ns of namespaces.stdout.split('\n').filter(Boolean)) {
    const tasks = await t.ctr(['tasks', 'ls', '-q'], { namespace: ns, allowFail: true, timeoutMs: 5_000 });
    const ids = tasks.stdout.split('\n').filter(Boolean);
    for (const id of ids) t.tasks.add(`${ns}/${id}`);
    if (tasks.code === 0 && ids.length > 0) {
      await t.ctr(['tasks', 'delete', '--force', ...ids], {
        namespace: ns,
        allowFail: true,
        timeoutMs: 20_000,
      });
    }
  }
}

function describeMounts(mounts: readonly MountEntry[]): string {
  return mounts.map((m) => `${m.mountPoint} (${m.fsType})`).join(', ');
}

export async function teardownBed(t: TeardownTarget): Promise<void> {
  const problems: string[] = [];
  try {
    await deleteTasks(t);
  } catch (error) {
    problems.push(`deleting tasks: ${String(error)}`);
  }
  const stray = strayPids(t);
  for (const pid of stray) killPid(pid, 'SIGKILL');
  const daemons = [t.containerd.pid, t.nydus?.pid].filter((p): p is number => p !== undefined);
  await Promise.all([
    t.containerd.stop(5_000).catch((e: unknown) => problems.push(String(e))),
    t.nydus?.stop().catch((e: unknown) => problems.push(String(e))),
  ]);
  const alive = await waitForPidsGone([...stray, ...daemons], 10_000);
  if (alive.length > 0) problems.push(`processes still alive after SIGKILL: ${alive.join(', ')}`);
  else removeShimSockets(t);

  const roots = [t.layout.root, t.layout.socketDir].filter((r): r is string => r !== undefined);
  let mountsLeft = false;
  for (const root of roots) {
    const left = await unmountUnder(root);
    if (left.length > 0) {
      mountsLeft = true;
      problems.push(`still mounted under ${root}: ${describeMounts(left)}`);
    }
  }
  const cgroupsLeft = removeCgroups(t.layout.cgroupName);
  if (cgroupsLeft.length > 0) problems.push(`cgroups not removed: ${cgroupsLeft.join(', ')}`);
  // Removing files below a live mount would delete inside the mounted filesystem: keep the root then.
  if (!mountsLeft)
    for (const root of roots) {
      clearImmutable(root);
      await rm(root, { recursive: true, force: true });
    }
  if (problems.length > 0) {
    throw new Error(`test bed teardown of ${t.layout.root} was incomplete:\n- ${problems.join('\n- ')}`);
  }
}

/** For the exit handler: no graceful steps, everything synchronous. */
export function teardownBedSync(t: TeardownTarget): void {
  const stray = strayPids(t);
  const daemons = [t.containerd.pid, t.nydus?.pid].filter((p): p is number => p !== undefined);
  for (const pid of [...stray, ...daemons]) killPid(pid, 'SIGKILL');
  if (waitForPidsGoneSync([...stray, ...daemons], 3_000).length === 0) removeShimSockets(t);
  const roots = [t.layout.root, t.layout.socketDir].filter((r): r is string => r !== undefined);
  const mountsLeft = roots.some((root) => unmountUnderSync(root).length > 0);
  removeCgroups(t.layout.cgroupName);
  if (!mountsLeft)
    for (const root of roots) {
      clearImmutable(root);
      rmSync(root, { recursive: true, force: true });
    }
}

/**
 * containerd's erofs snapshotter marks its layer files immutable (`set_immutable`), which no rm can delete:
 * the flag is cleared below the bed's own root first (nothing outside it).
 */
export function clearImmutable(root: string): void {
  if (existsSync(root)) spawnSync('chattr', ['-R', '-f', '-i', root], { stdio: 'ignore' });
}

/**
 * A real systemd (the machine's, Debian's 252) as PID 1 of its own PID, mount, UTS, IPC and cgroup namespaces,
 * in a root of its own (root.ts, guard.ts). A test reaches it as a pod reaches a node: `inPod` runs a command
 * in the bed's PID namespace (`hostPID: true`) with a mount namespace of its own, a /proc of that PID
 * namespace, and the node's root file system bound at `/mnt/host` (`podHostRoot`, given to kata-deploy as
 * `--host-root`, like a pod's hostPath mount of `/` at `/host`). Teardown kills PID 1 by pid (the kernel ends everything in its PID namespace), waits until no
 * process is left in it or in its mount namespace, then removes the bed's cgroup and directory.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readlinkSync, readFileSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { onExitCleanup } from '../exit-cleanup.js';
import { run, type RunResult } from '../exec.js';
import { mountsUnder } from '../mounts.js';
import { killPid, pidAlive, sleep, sleepSync, tailFile } from '../processes.js';
import { cgroupTreePids, createBedCgroup, removeCgroupTree } from './cgroup.js';
import { assertRootReady, initScript, nodeMountsScript, SYSTEMD_COMMAND } from './guard.js';
import { createSystemdRoot, ROOT_MARKER, type SystemdRootLayout } from './root.js';

export interface SystemdBed {
  readonly layout: SystemdRootLayout;
  /** The node's root on disk, as this process sees it (its /usr is empty here: bound only inside the bed). */
  readonly root: string;
  /** systemd's pid in this process's PID namespace. */
  readonly pid: number;
  /** The node's root as a pod in the bed's PID namespace sees it. */
  readonly podHostRoot: string;
  /** A node path as this process sees it. */
  at(nodePath: string): string;
  /** Runs a command like a pod with `hostPID: true` and a mount namespace of its own; never throws on exit. */
  inPod(command: string, args: readonly string[], opts?: PodRunOptions): Promise<RunResult>;
  /** `systemctl` inside the bed: the test's own look at the node, not kata-deploy's way in. */
  systemctl(args: readonly string[], opts?: { allowFail?: boolean }): Promise<RunResult>;
  /** The unit's journal (the bed keeps it in /run/log/journal). */
  journal(unit: string, lines?: number): Promise<string>;
  /** Kills PID 1 and removes everything; throws if a process, mount or cgroup stayed. Idempotent. */
  teardown(): Promise<void>;
}

export interface PodRunOptions {
  readonly env?: Record<string, string>;
  readonly timeoutMs?: number;
  readonly cwd?: string;
}

/**
 * Where a pod sees the node's root. A pod is a mount namespace copied from the node's (the launcher's, where the
 * root has its /usr and /usr/local bound), with /proc of the bed's PID namespace, and the root bound here on a
 * tmpfs of its own (a bind from systemd's own namespace, /proc/1/root, is refused by the kernel; mount(8) would
 * even resolve that path to this process's `/`, the machine's). The marker check makes sure it is the bed's.
 */
export const POD_HOST_ROOT = '/mnt/host';
const POD_SETUP = [
  'set -e',
  'mount -t proc proc /proc',
  'mount -t tmpfs -o size=1m,mode=755 kata-pod /mnt',
  `mkdir ${POD_HOST_ROOT}`,
  `mount --rbind "$2" ${POD_HOST_ROOT}`,
  `mount -t proc proc ${POD_HOST_ROOT}/proc`,
  `if [ "$(cat ${POD_HOST_ROOT}/${ROOT_MARKER})" != "$1" ]; then echo "pod: ${POD_HOST_ROOT} is not the bed's root" >&2; exit 97; fi`,
  'shift 2',
  'exec "$@"',
].join('\n');
const START_TIMEOUT_MS = 30_000;

function nsOf(pid: number, kind: 'pid' | 'mnt'): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/${kind}`);
  } catch {
    return undefined;
  }
}

/** Live processes (this machine's pids) in the given namespace. */
function pidsInNamespace(kind: 'pid' | 'mnt', ns: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    if (nsOf(Number(entry), kind) === ns && pidAlive(Number(entry))) found.push(Number(entry));
  }
  return found;
}

function childOf(pid: number): number | undefined {
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}

interface Spawned {
  readonly launcher: number;
  readonly pid: number;
  readonly cgroup: string;
  readonly pidNs: string;
  readonly mntNs: string;
}

interface Launched {
  readonly launcher: number;
  readonly cgroup: string;
  /** The launcher's exit code (unshare passes on its child's), null when a signal ended it. */
  readonly exited: Promise<number | null>;
}

/** Checks the root, creates the cgroup and starts the launcher: `command` becomes PID 1 after the guard. */
async function launch(layout: SystemdRootLayout, command: readonly string[]): Promise<Launched> {
  const identity = await assertRootReady(layout);
  const cgroup = createBedCgroup(layout.cgroupName);
  const log = openSync(layout.consoleLog, 'a');
  // The launcher: into the bed's cgroup, a node mount namespace (held by the launcher while PID 1 lives),
  // then PID 1 in namespaces of its own.
  const outer = [
    'echo $$ > "$BED_CGROUP/cgroup.procs" || exit 96',
    'exec unshare --mount --propagation private -- /bin/sh -c "$BED_NODE_MOUNTS" bed-node-mounts \\',
    '  unshare --pid --mount --uts --ipc --cgroup --fork --kill-child=SIGKILL --propagation private -- \\',
    '  /bin/sh -c "$BED_INIT" bed-init "$@"',
  ].join('\n');
  const child = spawn('/bin/sh', ['-c', outer, 'bed-launcher', ...command], {
    detached: true,
    stdio: ['ignore', log, log],
    env: {
      PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
      BED_CGROUP: cgroup,
      BED_NODE_MOUNTS: nodeMountsScript(),
      BED_INIT: initScript(),
      BED_ROOT: layout.root,
      BED_LOCAL: layout.local,
      BED_ID: layout.id,
      BED_TMP: identity.tmp,
    },
  });
  closeSync(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.unref();
  return { launcher: child.pid!, cgroup, exited };
}

/** Starts `command` (after the guard) as PID 1 of the bed's namespaces; resolves once PID 1 is seen. */
async function spawnInRoot(layout: SystemdRootLayout, command: readonly string[]): Promise<Spawned> {
  const { launcher, cgroup } = await launch(layout, command);
  const self = nsOf(process.pid, 'pid');
  const deadline = Date.now() + 10_000;
  for (;;) {
    const unshare = childOf(launcher);
    const pid = unshare === undefined ? undefined : childOf(unshare);
    const pidNs = pid === undefined ? undefined : nsOf(pid, 'pid');
    const mntNs = pid === undefined ? undefined : nsOf(pid, 'mnt');
    if (pid !== undefined && pidNs !== undefined && pidNs !== self && mntNs !== undefined) {
      return { launcher, pid, cgroup, pidNs, mntNs };
    }
    if (!pidAlive(launcher) || Date.now() > deadline) {
      killPid(launcher, 'SIGKILL');
      removeCgroupTree(cgroup);
      throw new Error(
        `the bed's PID 1 did not start (launcher ${launcher}); ${layout.consoleLog}:\n${await tailFile(layout.consoleLog)}`,
      );
    }
    await sleep(10);
  }
}

async function removeBed(layout: SystemdRootLayout, s: Spawned | undefined): Promise<string[]> {
  const problems: string[] = [];
  if (s !== undefined) {
    killPid(s.pid, 'SIGKILL');
    const deadline = Date.now() + 15_000;
    let left = pidsInNamespace('pid', s.pidNs);
    while (left.length > 0 && Date.now() < deadline) {
      await sleep(50);
      left = pidsInNamespace('pid', s.pidNs);
    }
    if (left.length > 0) problems.push(`processes left in the bed's PID namespace: ${left.join(', ')}`);
    const holders = pidsInNamespace('mnt', s.mntNs);
    if (holders.length > 0)
      problems.push(`processes still hold the bed's mount namespace: ${holders.join(', ')}`);
    // The launcher (sh and the outer unshare) lives in the bed's cgroup but not in its PID namespace: it exits
    // once PID 1 is gone, which under load can take a moment. Only the bed's processes are in this cgroup.
    let inCgroup = cgroupTreePids(s.cgroup);
    const cgroupDeadline = Date.now() + 5_000;
    while (inCgroup.length > 0 && Date.now() < cgroupDeadline) {
      for (const pid of inCgroup) killPid(pid, 'SIGKILL');
      await sleep(50);
      inCgroup = cgroupTreePids(s.cgroup);
    }
    if (inCgroup.length > 0) problems.push(`processes left in ${s.cgroup}: ${inCgroup.join(', ')}`);
    const cgroups = removeCgroupTree(s.cgroup);
    if (cgroups.length > 0) problems.push(`cgroups not removed: ${cgroups.join(', ')}`);
  }
  // The bed's mounts live in its own mount namespace: none may be visible here, and rm never crosses one.
  const mounts = await mountsUnder(layout.dir);
  if (mounts.length > 0)
    problems.push(`mounted under ${layout.dir}: ${mounts.map((m) => m.mountPoint).join(', ')}`);
  else if (problems.length === 0) await rm(layout.dir, { recursive: true, force: true });
  return problems;
}

function removeBedSync(layout: SystemdRootLayout, s: Spawned): void {
  killPid(s.pid, 'SIGKILL');
  const deadline = Date.now() + 5_000;
  while (pidsInNamespace('pid', s.pidNs).length > 0 && Date.now() < deadline) sleepSync(20);
  removeCgroupTree(s.cgroup);
  const mounted = readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${layout.dir}/`);
  if (!mounted && pidsInNamespace('pid', s.pidNs).length === 0)
    rmSync(layout.dir, { recursive: true, force: true });
}

export interface StartSystemdBedOptions {
  /** How long systemd may take to reach `running`. */
  readonly timeoutMs?: number;
}

export async function startSystemdBed(opts: StartSystemdBedOptions = {}): Promise<SystemdBed> {
  const layout = await createSystemdRoot();
  let spawned: Spawned | undefined;
  let unregister: () => void = () => undefined;
  let tornDown: Promise<void> | undefined;
  const teardown = () =>
    (tornDown ??= removeBed(layout, spawned).then((problems) => {
      unregister();
      if (problems.length > 0) {
        throw new Error(`systemd bed teardown of ${layout.dir} was incomplete:\n- ${problems.join('\n- ')}`);
      }
    }));
  try {
    spawned = await spawnInRoot(layout, SYSTEMD_COMMAND);
    const s = spawned;
    unregister = onExitCleanup(() => removeBedSync(layout, s));
  } catch (error) {
    await rm(layout.dir, { recursive: true, force: true });
    throw error;
  }
  const { pid, launcher } = spawned;
  const nsenter = (args: readonly string[], allowFail = false, timeoutMs = 60_000) =>
    run('nsenter', ['--target', String(pid), '--mount', '--pid', '--', ...args], { allowFail, timeoutMs });
  const bed: SystemdBed = {
    layout,
    root: layout.root,
    pid,
    podHostRoot: POD_HOST_ROOT,
    at: (nodePath) => join(layout.root, nodePath),
    inPod: (command, args, o = {}) =>
      run(
        'nsenter',
        [
          '--target',
          String(pid),
          '--pid',
          `--mount=/proc/${launcher}/ns/mnt`,
          ...(o.cwd === undefined ? [] : [`--wd=${o.cwd}`]),
          '--',
          'unshare',
          '--mount',
          '--propagation',
          'private',
          '--',
          '/bin/sh',
          '-c',
          POD_SETUP,
          'pod',
          layout.id,
          layout.root,
          command,
          ...args,
        ],
        {
          env: { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...o.env },
          allowFail: true,
          timeoutMs: o.timeoutMs ?? 300_000,
          cwd: o.cwd,
        },
      ),
    systemctl: (args, o = {}) => nsenter(['systemctl', '--no-pager', ...args], o.allowFail ?? false),
    journal: async (unit, lines = 30) =>
      (
        await run(
          'journalctl',
          [
            '--directory',
            join(layout.root, 'run/log/journal'),
            '--unit',
            unit,
            '--lines',
            String(lines),
            '--no-pager',
          ],
          { allowFail: true, timeoutMs: 15_000 },
        )
      ).stdout,
    teardown,
  };
  try {
    await waitRunning(bed, opts.timeoutMs ?? START_TIMEOUT_MS);
  } catch (error) {
    await teardown().catch((e: unknown) => process.stderr.write(`${String(e)}\n`));
    throw error;
  }
  return bed;
}

async function waitRunning(bed: SystemdBed, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let state = '';
  while (Date.now() < deadline) {
    if (!pidAlive(bed.pid)) break;
    state = (await bed.systemctl(['is-system-running'], { allowFail: true })).stdout.trim();
    if (state === 'running') return;
    if (state === 'degraded') break;
    await sleep(100);
  }
  const failed = pidAlive(bed.pid) ? (await bed.systemctl(['--failed'], { allowFail: true })).stdout : '';
  throw new Error(
    `systemd in ${bed.root} did not reach "running" (state "${state}", PID 1 ${pidAlive(bed.pid) ? 'alive' : 'gone'})\n${failed}\n${await tailFile(bed.layout.consoleLog)}`,
  );
}

/**
 * The root's own check, without systemd: builds a fresh bed root, runs `command` in place of systemd (after
 * the guard) as PID 1 of the bed's namespaces, waits for it to exit and removes everything again.
 */
export async function runInBedRoot(
  command: readonly string[],
  timeoutMs = 20_000,
): Promise<{ code: number | null; output: string }> {
  const layout = await createSystemdRoot();
  let launched: Launched | undefined;
  let result: { code: number | null; output: string } | undefined;
  let failure: unknown;
  try {
    launched = await launch(layout, command);
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      launched.exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${command.join(' ')} did not exit within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    result = { code, output: readFileSync(layout.consoleLog, 'utf8') };
  } catch (error) {
    failure = error;
  }
  // Every process of the check is in its cgroup: end them all, then remove the cgroup and the directory.
  const left: string[] = [];
  if (launched !== undefined) {
    const deadline = Date.now() + 5_000;
    let pids = cgroupTreePids(launched.cgroup);
    while (pids.length > 0 && Date.now() < deadline) {
      for (const pid of pids) killPid(pid, 'SIGKILL');
      await sleep(20);
      pids = cgroupTreePids(launched.cgroup);
    }
    left.push(...pids.map((p) => `pid ${p}`), ...removeCgroupTree(launched.cgroup));
  }
  const mounts = await mountsUnder(layout.dir);
  left.push(...mounts.map((m) => m.mountPoint));
  if (left.length === 0) await rm(layout.dir, { recursive: true, force: true });
  if (failure !== undefined) throw failure;
  if (left.length > 0) throw new Error(`the bed root check left ${left.join(', ')}`);
  return result!;
}

/**
 * What a user of the node would do with containerd, through the matching `ctr`: pull images into the
 * snapshotter, run a container on it, look at its task, stop it.
 */
import { execFile } from 'node:child_process';
import type { ContainerdBinaries } from '../test/bed/index.js';

export const NAMESPACE = 'k8s.io';

export class CommandFailed extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

export interface Task {
  readonly id: string;
  readonly pid: number;
  readonly status: string;
}

export interface Ctr {
  run(args: readonly string[], timeoutMs?: number): Promise<string>;
  pull(ref: string, snapshotter: string): Promise<void>;
  /** busybox's `sleep` in the given cgroup parent, detached; resolves once the task is RUNNING. */
  runContainer(id: string, ref: string, snapshotter: string, cgroupParent: string): Promise<Task>;
  task(id: string): Promise<Task | undefined>;
  /** Kills the task, deletes it and the container with its snapshot. */
  removeContainer(id: string): Promise<void>;
  countSnapshots(snapshotter: string): Promise<number>;
  /** Every task in the namespace. */
  tasks(): Promise<Task[]>;
  /** Ids of every container in the namespace. */
  containers(): Promise<string[]>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `invocation`: the program and the arguments before ctr's own, ending with `--address <socket>` (the matching
 * ctr on this machine, or the node's own ctr run inside the node, where the snapshots it mounts exist);
 * `runFlags`: extra flags for `ctr run` on this node.
 */
export function ctrFor(
  binaries: ContainerdBinaries,
  invocation: readonly string[],
  runFlags: readonly string[] = [],
): Ctr {
  // 2.x pulls through its transfer service unless told otherwise, and that unpacks only into snapshotters
  // named in its unpack_config; `--local` unpacks client-side (1.7 takes it too, 1.6 does not know it).
  const local = binaries.version === '1.6' ? [] : ['--local'];

  function run(args: readonly string[], timeoutMs = 120_000): Promise<string> {
    const [file, ...prefix] = invocation as [string, ...string[]];
    const full = [...prefix, '--namespace', NAMESPACE, ...args];
    return new Promise((resolve, reject) => {
      execFile(file, full, { timeout: timeoutMs, maxBuffer: 1 << 24 }, (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const code = typeof error.code === 'number' ? error.code : 1;
        const why = (stderr || error.message).trim().split('\n').slice(-3).join(' | ');
        reject(new CommandFailed(`ctr ${args.slice(0, 3).join(' ')}: ${why}`, code));
      });
    });
  }

  async function tasks(): Promise<Task[]> {
    const out = await run(['tasks', 'ls'], 15_000);
    return out
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((f): f is [string, string, string] => f.length >= 3)
      .map(([id, pid, status]) => ({ id, pid: Number(pid), status }));
  }

  const task = async (id: string) => (await tasks()).find((t) => t.id === id);

  return {
    run,
    tasks,
    task,
    async containers() {
      return (await run(['containers', 'ls', '-q'], 15_000)).split('\n').filter((l) => l.trim() !== '');
    },
    async pull(ref, snapshotter) {
      await run(['images', 'pull', ...local, '--plain-http', '--snapshotter', snapshotter, ref]);
    },
    async runContainer(id, ref, snapshotter, cgroupParent) {
      const cgroup = `/${cgroupParent}/${NAMESPACE}/${id}`;
      await run([
        'run',
        '--detach',
        '--null-io',
        ...runFlags,
        '--snapshotter',
        snapshotter,
        '--cgroup',
        cgroup,
        ref,
        id,
      ]);
      const deadline = Date.now() + 10_000;
      for (;;) {
        const t = await task(id);
        if (t?.status === 'RUNNING') return t;
        if (Date.now() > deadline) throw new CommandFailed(`task ${id} is ${t?.status ?? 'missing'}`, 1);
        await sleep(50);
      }
    },
    async removeContainer(id) {
      if ((await task(id)) !== undefined) {
        await run(['tasks', 'kill', '--signal', 'SIGKILL', id], 15_000).catch(() => undefined);
        const deadline = Date.now() + 10_000;
        while ((await task(id))?.status === 'RUNNING' && Date.now() < deadline) await sleep(50);
        await run(['tasks', 'delete', id], 15_000);
      }
      await run(['containers', 'delete', id], 15_000);
    },
    async countSnapshots(snapshotter) {
      const out = await run(['snapshots', '--snapshotter', snapshotter, 'ls'], 15_000);
      return out.split('\n').filter((l) => l.trim() !== '').length - 1;
    },
  };
}

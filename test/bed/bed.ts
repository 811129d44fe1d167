// A private containerd (1.6, 1.7 or 2.1) with the real nydus-snapshotter as proxy plugin, under one temp root.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { containerdConfig } from './config.js';
import { onExitCleanup } from './exit-cleanup.js';
import { run, type RunResult } from './exec.js';
import type { Bed, BedOptions, CtrOptions, ImageTarget } from './types.js';
import { busyboxImage, type GeneratedImage } from './image.js';
import { createLayout, type BedLayout } from './layout.js';
import { createNydus, type ManagedNydus, type NydusHandle } from './nydus.js';
import { Service, tailFile } from './processes.js';
import { strayPids, teardownBed, teardownBedSync, type TeardownTarget } from './teardown.js';
import {
  containerdBinaries,
  erofsUtilsBinDir,
  nydusBinaries,
  type ContainerdBinaries,
  type ContainerdVersion,
} from './versions.js';
import { socketAnswers, waitUntil } from './wait.js';

const CONTAINERD_START_TIMEOUT_MS = 20_000;
const TASK_RUNNING_TIMEOUT_MS = 10_000;

function containerdEnv(
  binaries: ContainerdBinaries,
  nydusBinDir: string | undefined,
  erofsBinDir: string | undefined,
): NodeJS.ProcessEnv {
  // The matching shim first; runc lives in /usr/sbin.
  const dirs = [
    binaries.shimDir,
    nydusBinDir,
    erofsBinDir,
    ...(process.env['PATH'] ?? '').split(':'),
    '/usr/sbin',
    '/usr/bin',
  ];
  const seen = [...new Set(dirs.filter((d): d is string => Boolean(d)))];
  return { ...process.env, PATH: seen.join(':') };
}

class BedImpl implements Bed {
  readonly version: ContainerdVersion;
  readonly root: string;
  readonly socket: string;
  readonly configPath: string;
  readonly containerdRoot: string;
  readonly containerdState: string;
  readonly metaDbPath: string;
  readonly logs: { containerd: string; nydus: string | undefined };
  readonly taskPids = new Set<number>();
  readonly tasks = new Set<string>();
  private busybox: Promise<GeneratedImage> | undefined;
  private tornDown: Promise<void> | undefined;
  private unregisterExit: () => void = () => undefined;

  constructor(
    readonly binaries: ContainerdBinaries,
    readonly layout: BedLayout,
    readonly containerd: Service,
    readonly managedNydus: ManagedNydus | undefined,
    readonly erofs = false,
  ) {
    this.version = binaries.version;
    this.root = layout.root;
    this.socket = layout.socket;
    this.configPath = layout.configPath;
    this.containerdRoot = layout.containerdRoot;
    this.containerdState = layout.containerdState;
    this.metaDbPath = layout.metaDbPath;
    this.logs = { containerd: layout.containerdLog, nydus: managedNydus ? layout.nydus.logPath : undefined };
  }

  get nydus(): NydusHandle | undefined {
    return this.managedNydus;
  }

  registerExitCleanup(): void {
    this.unregisterExit = onExitCleanup(() => teardownBedSync(this.teardownTarget()));
  }

  ctr(args: string[], opts: CtrOptions = {}): Promise<RunResult> {
    const full = ['--address', this.socket, '--namespace', opts.namespace ?? 'default', ...args];
    return run(this.binaries.ctr, full, { allowFail: opts.allowFail, timeoutMs: opts.timeoutMs });
  }

  private snapshotterOf(opts: ImageTarget): string {
    return opts.snapshotter ?? (this.managedNydus ? 'nydus' : this.erofs ? 'erofs' : 'overlayfs');
  }

  /**
   * 2.x imports and pulls through its transfer service by default, which unpacks only into snapshotters named
   * in its unpack_config (import fails with "no unpack platforms defined"); `--local` does it client-side.
   * 1.7 takes the flag too, so 1.7 and 2.1 behave the same.
   */
  private localFlag(): string[] {
    return this.version === '1.6' ? [] : ['--local'];
  }

  async importImage(image: GeneratedImage, opts: ImageTarget = {}): Promise<void> {
    const args = [
      'images',
      'import',
      ...this.localFlag(),
      '--snapshotter',
      this.snapshotterOf(opts),
      image.tarPath,
    ];
    await this.ctr(args, { namespace: opts.namespace, timeoutMs: 120_000 });
  }

  async pull(ref: string, opts: ImageTarget = {}): Promise<void> {
    const args = [
      'images',
      'pull',
      ...this.localFlag(),
      '--plain-http',
      '--snapshotter',
      this.snapshotterOf(opts),
      ref,
    ];
    await this.ctr(args, { namespace: opts.namespace, timeoutMs: 120_000 });
  }

  private async ensureImported(image: GeneratedImage, opts: ImageTarget): Promise<void> {
    const listed = await this.ctr(['images', 'ls', '-q'], { namespace: opts.namespace });
    if (!listed.stdout.split('\n').includes(image.ref)) await this.importImage(image, opts);
  }

  async runContainer(id: string, opts: ImageTarget & { image?: GeneratedImage } = {}): Promise<void> {
    const namespace = opts.namespace ?? 'default';
    this.busybox ??= busyboxImage(this.layout.imagesDir);
    const image = opts.image ?? (await this.busybox);
    await this.ensureImported(image, opts);
    this.tasks.add(`${namespace}/${id}`);
    await this.ctr(
      [
        'run',
        '--detach',
        '--null-io',
        '--snapshotter',
        this.snapshotterOf(opts),
        '--cgroup',
        `/${this.layout.cgroupName}/${namespace}/${id}`,
        '--runc-root',
        this.layout.runcRoot,
        image.ref,
        id,
      ],
      { namespace, timeoutMs: 60_000 },
    );
    let last = '';
    await waitUntil(
      async () => {
        last = (await this.ctr(['tasks', 'ls'], { namespace })).stdout;
        const row = last.split('\n').find((line) => line.split(/\s+/)[0] === id);
        const [, pid, status] = row?.split(/\s+/) ?? [];
        if (pid && /^\d+$/.test(pid) && pid !== '0') this.taskPids.add(Number(pid));
        return status === 'RUNNING';
      },
      {
        timeoutMs: TASK_RUNNING_TIMEOUT_MS,
        intervalMs: 50,
        describe: () =>
          `task ${id} (namespace ${namespace}) not RUNNING after ${TASK_RUNNING_TIMEOUT_MS} ms:\n${last}`,
      },
    );
  }

  async createContainer(id: string, image: GeneratedImage, opts: ImageTarget = {}): Promise<void> {
    await this.ensureImported(image, opts);
    await this.ctr(['containers', 'create', '--snapshotter', this.snapshotterOf(opts), image.ref, id], {
      namespace: opts.namespace,
    });
  }

  async startContainerd(): Promise<void> {
    this.containerd.start();
    await waitUntil(async () => this.containerd.running() && (await socketAnswers(this.socket)), {
      timeoutMs: CONTAINERD_START_TIMEOUT_MS,
      intervalMs: 20,
      describe: async () => {
        const why =
          this.containerd.startError?.message ??
          (this.containerd.running() ? 'socket never answered' : 'process exited');
        const log = this.layout.containerdLog;
        return `containerd ${this.version} did not answer on ${this.socket} within ${CONTAINERD_START_TIMEOUT_MS} ms (${why}); log ${log}:\n${await tailFile(log)}`;
      },
    });
  }

  stopContainerd(): Promise<void> {
    return this.containerd.stop(10_000);
  }

  processes(): { name: string; pid: number }[] {
    const target = this.teardownTarget();
    const found: { name: string; pid: number }[] = [];
    if (this.containerd.pid !== undefined) found.push({ name: 'containerd', pid: this.containerd.pid });
    if (this.managedNydus?.pid !== undefined) found.push({ name: 'nydus', pid: this.managedNydus.pid });
    for (const pid of strayPids(target)) found.push({ name: 'task-or-shim', pid });
    return found;
  }

  teardown(): Promise<void> {
    this.tornDown ??= teardownBed(this.teardownTarget()).finally(() => this.unregisterExit());
    return this.tornDown;
  }

  teardownTarget(): TeardownTarget {
    return {
      layout: this.layout,
      containerd: this.containerd,
      nydus: this.managedNydus,
      taskPids: this.taskPids,
      tasks: this.tasks,
      ctr: (args: string[], opts: CtrOptions) => this.ctr(args, opts),
    };
  }
}

export async function startBed(opts: BedOptions): Promise<Bed> {
  const binaries = containerdBinaries(opts.version);
  const withNydus = opts.nydus ?? true;
  if (opts.erofs && opts.version !== '2.1')
    throw new Error(`erofs needs containerd 2.1 or later; this bed runs ${opts.version}`);
  const erofsBinDir = opts.erofs ? erofsUtilsBinDir() : undefined;
  const nydusBinDir = withNydus ? path.dirname(nydusBinaries().grpc) : undefined;
  const layout = await createLayout(opts.root);
  const env = containerdEnv(binaries, nydusBinDir, erofsBinDir);
  const config = containerdConfig({
    version: opts.version,
    root: layout.containerdRoot,
    state: layout.containerdState,
    grpcSocket: layout.socket,
    ttrpcSocket: layout.ttrpcSocket,
    debugSocket: layout.debugSocket,
    optDir: layout.optDir,
    cri: opts.cri ?? false,
    cniConfDir: layout.cniConfDir,
    cniBinDir: layout.cniBinDir,
    nydusSocket: withNydus ? layout.nydus.socket : undefined,
    erofs: opts.erofs ?? false,
    extraConfig: opts.extraConfig,
  });
  await writeFile(layout.configPath, config);
  const containerd = new Service({
    name: `containerd ${opts.version}`,
    file: binaries.containerd,
    args: ['--config', layout.configPath],
    logPath: layout.containerdLog,
    env,
  });
  const nydus = withNydus ? await createNydus(layout.nydus, env) : undefined;
  const bed = new BedImpl(binaries, layout, containerd, nydus, opts.erofs ?? false);
  bed.registerExitCleanup();
  try {
    await nydus?.start();
    await bed.startContainerd();
  } catch (error) {
    await bed.teardown().catch(() => undefined);
    throw error;
  }
  return bed;
}

/** Runs fn on a fresh bed and always tears it down, also when fn throws. */
export async function withBed<T>(opts: BedOptions, fn: (bed: Bed) => Promise<T>): Promise<T> {
  const bed = await startBed(opts);
  let result: T;
  try {
    result = await fn(bed);
  } catch (error) {
    // The test's own failure is the one to report; a teardown problem on top only goes to stderr.
    await bed.teardown().catch((e: unknown) => process.stderr.write(`${String(e)}\n`));
    throw error;
  }
  await bed.teardown();
  return result;
}

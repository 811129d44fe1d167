/**
 * A sandbox node for snapshotter lifecycle tests: a temporary host root with a real containerd (run by
 * kata-deploy's process supervisor, in a private mount namespace where the root's /opt and /etc/containerd
 * stand for the node's), mkfs.erofs on containerd's PATH, the nydus payload, and helpers to run the built CLI,
 * pull, run runc containers and ask the doctor.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before } from 'node:test';
import {
  busyboxImage,
  clearImmutable,
  containerdBinaries,
  generateImage,
  startRegistry,
  type Registry,
  erofsUtilsBinDir,
  mountsUnder,
  nydusBinaries,
  parseMountinfo,
} from '../bed/index.js';
import { run as runCommand } from '../bed/exec.js';
import { createHost, type Host } from '../../src/host/index.js';
import type { RunResult } from '../../src/lifecycle/index.js';
import { REPO_ROOT } from './cli.js';
import { namespacedServiceSpec, nodeContainerdConfig, waitContainerdAnswer } from './node-root.js';

export const UNIT = 'containerd.service';
export const NYDUS = 'nydus-for-kata-tee';
const FIXTURE = join(REPO_ROOT, 'test/fixtures/payload');

export interface Cli {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Never throws for a non-zero exit. */
export const run = (command: string, args: string[], env?: Record<string, string>): Promise<Cli> =>
  runCommand(command, args, {
    env: env ? { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env } : process.env,
    allowFail: true,
    timeoutMs: 300_000,
  });

/** The Kata payload with nydus-snapshotter's binaries and templates, under `work`. */
export async function makePayload(work: string): Promise<string> {
  const payload = join(work, 'payload');
  await mkdir(join(payload, 'nydus-snapshotter'), { recursive: true });
  await symlink(join(FIXTURE, 'opt'), join(payload, 'opt'));
  for (const f of await readdir(join(FIXTURE, 'nydus-snapshotter')))
    await copyFile(join(FIXTURE, 'nydus-snapshotter', f), join(payload, 'nydus-snapshotter', f));
  const bins = nydusBinaries();
  await copyFile(bins.grpc, join(payload, 'nydus-snapshotter/containerd-nydus-grpc'));
  await copyFile(bins.overlayfs, join(payload, 'nydus-snapshotter/nydus-overlayfs'));
  return payload;
}

export interface SnapshotterNodes {
  /** Registry references of `busybox` and `app` (a generated 3-layer image). */
  readonly refs: Readonly<Record<string, string>>;
  /** A new node with its own payload; stopped and removed after the file. */
  node(): Promise<SnapshotterNode>;
}

/**
 * A test file's shared setup for snapshotter nodes: a work directory with a registry holding busybox and a
 * generated image (`seed`), nodes on demand, and everything removed after the file.
 */
export function useSnapshotterNodes(seed: string): SnapshotterNodes {
  let work = '';
  let registry: Registry | undefined;
  const refs: Record<string, string> = {};
  const nodes: SnapshotterNode[] = [];
  before(async () => {
    work = await mkdtemp('/tmp/kd-snw-');
    registry = await startRegistry({ root: join(work, 'registry') });
    refs['busybox'] = await registry.push(await busyboxImage(work), 'test/busybox:v1');
    const app = await generateImage({ name: 'test/app:v1', layers: 3, seed }, work);
    refs['app'] = await registry.push(app, 'test/app:v1');
  });
  after(async () => {
    for (const n of nodes) await n.dispose().catch((e: unknown) => console.error(e));
    await registry?.stop();
    await rm(work, { recursive: true, force: true });
  });
  return {
    refs,
    async node() {
      const n = await SnapshotterNode.start(await makePayload(await mkdtemp(join(work, 'p-'))));
      nodes.push(n);
      return n;
    },
  };
}

export class SnapshotterNode {
  readonly host: Host;
  readonly socket: string;
  readonly cgroup: string;
  readonly metaDb: string;

  private constructor(
    readonly root: string,
    readonly payload: string,
  ) {
    this.host = createHost({ root, serviceManager: 'process' });
    this.socket = join(root, 'run/containerd/containerd.sock');
    this.cgroup = `kdc-${root.split('-').at(-1)}`;
    this.metaDb = join(root, 'var/lib/containerd/io.containerd.metadata.v1.bolt/meta.db');
  }

  /** A node on containerd 2.1 with CRI, whose PATH has mkfs.erofs (erofs-utils 1.8.6). */
  static async start(payload: string): Promise<SnapshotterNode> {
    const bins = containerdBinaries('2.1');
    const root = await mkdtemp('/tmp/kdc-');
    const node = new SnapshotterNode(root, payload);
    for (const d of ['etc/containerd', 'etc/kata-deploy/services', 'etc/cni/net.d', 'run/containerd'])
      await mkdir(join(root, d), { recursive: true });
    await writeFile(join(root, 'etc/containerd/config.toml'), nodeContainerdConfig(root, '2.1'));
    await writeFile(
      join(root, 'etc/kata-deploy/services', `${UNIT}.json`),
      namespacedServiceSpec({
        root,
        binds: ['/opt', '/etc/containerd'],
        exec: [bins.containerd, '--config', '/etc/containerd/config.toml'],
        path: `${bins.shimDir}:${erofsUtilsBinDir()}:/usr/sbin:/usr/bin:/sbin:/bin`,
        logFile: '/var/log/containerd.log',
      }),
    );
    await node.host.services.start(UNIT);
    await waitContainerdAnswer(node.socket, 30_000);
    return node;
  }

  cli(action: string, env: Record<string, string>, extra: string[] = []): Promise<Cli> {
    const args = [
      action,
      '--host-root',
      this.root,
      '--service-manager',
      'process',
      '--runtime',
      'containerd',
    ];
    args.push('--containerd-bin', containerdBinaries('2.1').containerd, '--json');
    if (action === 'install') args.push('--artifacts-dir', this.payload);
    return run(process.execPath, [join(REPO_ROOT, 'bin/kata-deploy.js'), ...args, ...extra], {
      NODE_NAME: 'sandbox-node',
      ...env,
    });
  }

  async ok(action: string, env: Record<string, string>): Promise<RunResult> {
    const r = await this.cli(action, env);
    assert.equal(r.code, 0, `${action} failed (${r.code ?? r.signal}):\n${r.stderr}\n${r.stdout}`);
    return JSON.parse(r.stdout) as RunResult;
  }

  /** `snapshots <command> --snapshotter NAME --json` through the built CLI against this node's containerd. */
  async snapshots(
    command: string,
    snapshotter: string,
    extra: string[] = [],
  ): Promise<{ code: number | null; json: Record<string, unknown> }> {
    const r = await run(process.execPath, [
      join(REPO_ROOT, 'bin/kata-deploy.js'),
      'snapshots',
      command,
      '--snapshotter',
      snapshotter,
      '--containerd-socket',
      this.socket,
      '--host-root',
      '/',
      '--json',
      ...extra,
    ]);
    return { code: r.code, json: JSON.parse(r.stdout || '{}') as Record<string, unknown> };
  }

  ctr(args: string[], ns = 'k8s.io'): Promise<Cli> {
    return run(containerdBinaries('2.1').ctr, ['--address', this.socket, '--namespace', ns, ...args]);
  }

  async pull(ref: string, snapshotter: string): Promise<Cli> {
    return this.ctr(['images', 'pull', '--local', '--plain-http', '--snapshotter', snapshotter, ref]);
  }

  async mustPull(ref: string, snapshotter: string, when: string): Promise<void> {
    const r = await this.pull(ref, snapshotter);
    assert.equal(r.code, 0, `pull through ${snapshotter} ${when} failed:\n${r.stderr}`);
  }

  async runContainer(id: string, image: string, snapshotter: string): Promise<void> {
    const r = await this.ctr([
      'run',
      '--detach',
      '--null-io',
      '--snapshotter',
      snapshotter,
      '--cgroup',
      `/${this.cgroup}/${id}`,
      image,
      id,
      '/bin/busybox',
      'sleep',
      '3600',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await this.taskStatus(id), 'RUNNING');
  }

  async taskStatus(id: string): Promise<string | undefined> {
    const rows = (await this.ctr(['tasks', 'ls'])).stdout.split('\n').map((l) => l.split(/\s+/));
    return rows.find((r) => r[0] === id)?.[2];
  }

  async taskPid(id: string): Promise<string | undefined> {
    const rows = (await this.ctr(['tasks', 'ls'])).stdout.split('\n').map((l) => l.split(/\s+/));
    return rows.find((r) => r[0] === id)?.[1];
  }

  async killTask(id: string): Promise<void> {
    await this.ctr(['tasks', 'kill', '-s', 'KILL', id]);
    for (let i = 0; i < 50 && (await this.taskStatus(id)) === 'RUNNING'; i++) await sleep(100);
    await this.ctr(['tasks', 'delete', '-f', id]);
    await this.ctr(['containers', 'rm', id]);
  }

  configText(path: string): Promise<string> {
    return readFile(join(this.root, path), 'utf8');
  }

  async dispose(): Promise<void> {
    const tasks = (await this.ctr(['tasks', 'ls', '-q']).catch(() => undefined))?.stdout ?? '';
    for (const id of tasks.split('\n').filter(Boolean)) await this.killTask(id);
    const pidText = await this.host.readText(`/run/kata-deploy/services/${NYDUS}.service.pid`);
    if (pidText !== undefined) spawnSync('kill', ['-9', pidText.split(' ')[0]!]);
    await this.host.services.stop(UNIT).catch(() => undefined);
    for (const m of (await mountsUnder(this.root)).reverse()) spawnSync('umount', ['-l', m.mountPoint]);
    removeCgroups(this.cgroup);
    clearImmutable(this.root);
    await rm(this.root, { recursive: true, force: true });
  }
}

/** Removes the cgroup `name` under every cgroup hierarchy, deepest first; a busy one stays. */
export function removeCgroups(name: string): void {
  const tops = parseMountinfo(spawnSync('cat', ['/proc/self/mountinfo']).stdout.toString())
    .filter((m) => m.fsType === 'cgroup' || m.fsType === 'cgroup2')
    .map((m) => join(m.mountPoint, name));
  for (const top of tops) {
    if (!existsSync(top)) continue;
    const dirs = spawnSync('find', [top, '-depth', '-type', 'd']).stdout.toString().split('\n');
    for (const d of dirs.filter(Boolean)) {
      try {
        rmdirSync(d);
      } catch {
        // a cgroup with processes left stays; the next run reports it
      }
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

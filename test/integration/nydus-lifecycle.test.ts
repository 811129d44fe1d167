/**
 * `kata-deploy install | cleanup` with EXPERIMENTAL_SETUP_SNAPSHOTTER=nydus against real containerd 2.1 (and 1.6
 * for the basic cycle) and the real nydus-snapshotter, both run by the process supervisor from a sandbox host
 * root, images pulled from a local registry. The seed's split brain is reproduced by wiping the data dir the
 * way upstream once did; our own cycles must never cause it.
 *
 * KATA_DEPLOY_TEST_EVERY_STEP=1 crashes the upgrade after every step instead of a handful of representative ones.
 */
import { describe, it, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { run as runCommand } from '../bed/exec.js';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  busyboxImage,
  containerdBinaries,
  generateImage,
  mountsUnder,
  nydusBinaries,
  startRegistry,
  type ContainerdVersion,
  type Registry,
} from '../bed/index.js';
import { createHost, type Host } from '../../src/host/index.js';
import { readMetaDb } from '../../src/containerd/metadb/index.js';
import { diagnose } from '../../src/snapshots/doctor.js';
import { readBackendInventory } from '../../src/snapshots/backend.js';
import type { RunResult } from '../../src/lifecycle/index.js';
import { waitContainerdAnswer } from '../support/node-root.js';
import { removeCgroups } from '../support/snapshotter-node.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURE = join(REPO, 'test/fixtures/payload');
const UNIT = 'containerd.service';
const NYDUS = 'nydus-for-kata-tee';
const NYDUS_UNIT = `${NYDUS}.service`;
const EVERY_STEP = process.env['KATA_DEPLOY_TEST_EVERY_STEP'] === '1';

interface Cli {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

let work: string;
let payload: string;
let registry: Registry;
const refs: Record<string, string> = {};
const sandboxes: Sandbox[] = [];

before(async () => {
  work = await mkdtemp('/tmp/kdn-work-');
  payload = join(work, 'payload');
  await mkdir(join(payload, 'nydus-snapshotter'), { recursive: true });
  await symlink(join(FIXTURE, 'opt'), join(payload, 'opt'));
  for (const f of await readdir(join(FIXTURE, 'nydus-snapshotter')))
    await copyFile(join(FIXTURE, 'nydus-snapshotter', f), join(payload, 'nydus-snapshotter', f));
  const bins = nydusBinaries();
  await copyFile(bins.grpc, join(payload, 'nydus-snapshotter/containerd-nydus-grpc'));
  await copyFile(bins.overlayfs, join(payload, 'nydus-snapshotter/nydus-overlayfs'));
  registry = await startRegistry({ root: join(work, 'registry') });
  const app = await generateImage({ name: 'test/app:v1', layers: 4, seed: 'nydus-lifecycle' }, work);
  refs['app'] = await registry.push(app, 'test/app:v1');
  refs['busybox'] = await registry.push(await busyboxImage(work), 'test/busybox:v1');
});

after(async () => {
  for (const sb of sandboxes) await sb.dispose().catch((e: unknown) => console.error(e));
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

function userConfig(root: string, version: ContainerdVersion): string {
  const v3 = version === '2.1';
  const cri = v3 ? 'io.containerd.cri.v1.runtime' : 'io.containerd.grpc.v1.cri';
  return `version = ${v3 ? 3 : 2}
root = "${root}/var/lib/containerd"
state = "${root}/run/containerd"
disabled_plugins = ["io.containerd.nri.v1.nri"]

[grpc]
  address = "${root}/run/containerd/containerd.sock"

[ttrpc]
  address = "${root}/run/containerd/containerd.sock.ttrpc"

[plugins."io.containerd.internal.v1.opt"]
  path = "${root}/var/lib/containerd-opt"

[plugins."${cri}".cni]
  conf_dir = "${root}/etc/cni/net.d"
  bin_dir = "${root}/opt-cni-bin"
`;
}

function containerdSpec(root: string, bin: string, shimDir: string): string {
  const script =
    'if [ -d "$ROOT/opt" ]; then mount --bind "$ROOT/opt" /opt; fi; ' +
    'mount --bind "$ROOT/etc/containerd" /etc/containerd; exec "$BIN" --config /etc/containerd/config.toml';
  return JSON.stringify({
    command: '/usr/bin/unshare',
    args: ['--mount', '--propagation', 'private', '--', '/bin/sh', '-c', script],
    env: { ROOT: root, BIN: bin, PATH: `${shimDir}:/usr/sbin:/usr/bin:/sbin:/bin` },
    logFile: '/var/log/containerd.log',
  });
}

class Sandbox {
  readonly host: Host;
  readonly socket: string;
  readonly cgroup: string;
  constructor(
    readonly root: string,
    readonly version: ContainerdVersion,
  ) {
    this.host = createHost({ root, serviceManager: 'process' });
    this.socket = join(root, 'run/containerd/containerd.sock');
    this.cgroup = `kdn-${root.split('-').at(-1)}`;
  }

  get dataDir(): string {
    return join(this.root, 'var/lib', NYDUS);
  }

  cli(action: string, env: Record<string, string> = {}, extra: string[] = []): Promise<Cli> {
    const args = [
      action,
      '--host-root',
      this.root,
      '--service-manager',
      'process',
      '--runtime',
      'containerd',
    ];
    args.push('--containerd-bin', containerdBinaries(this.version).containerd, '--json');
    if (action === 'install') args.push('--artifacts-dir', payload);
    return run(process.execPath, [join(REPO, 'bin/kata-deploy.js'), ...args, ...extra], {
      NODE_NAME: 'sandbox-node',
      SHIMS_X86_64: 'qemu',
      EXPERIMENTAL_SETUP_SNAPSHOTTER: 'nydus',
      // containerd 1.6 has no per-runtime snapshotter; kata-deploy refuses the mapping there, as upstream does.
      ...(this.version === '1.6' ? {} : { SNAPSHOTTER_HANDLER_MAPPING_X86_64: 'qemu:nydus' }),
      ...env,
    });
  }

  async ok(action: string, env: Record<string, string> = {}): Promise<RunResult> {
    const r = await this.cli(action, env);
    assert.equal(r.code, 0, `${action} failed (${r.code ?? r.signal}):\n${r.stderr}\n${r.stdout}`);
    return JSON.parse(r.stdout) as RunResult;
  }

  ctr(args: string[], ns = 'k8s.io'): Promise<Cli> {
    return run(containerdBinaries(this.version).ctr, ['--address', this.socket, '--namespace', ns, ...args]);
  }

  async pull(ref: string): Promise<Cli> {
    const local = this.version === '1.6' ? [] : ['--local'];
    return this.ctr(['images', 'pull', ...local, '--plain-http', '--snapshotter', NYDUS, ref]);
  }

  async mustPull(ref: string, when: string): Promise<void> {
    const r = await this.pull(ref);
    assert.equal(r.code, 0, `pull ${when} failed:\n${r.stderr}`);
  }

  async runContainer(id: string): Promise<void> {
    const r = await this.ctr([
      'run',
      '--detach',
      '--null-io',
      '--snapshotter',
      NYDUS,
      '--cgroup',
      `/${this.cgroup}/${id}`,
      refs['busybox']!,
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

  async killTask(id: string): Promise<void> {
    await this.ctr(['tasks', 'kill', '-s', 'KILL', id]);
    for (let i = 0; i < 50 && (await this.taskStatus(id)) === 'RUNNING'; i++) await sleep(100);
    await this.ctr(['tasks', 'delete', '-f', id]);
  }

  /** The doctor's view of the snapshotter: records in meta.db and how many of them the backend lacks. */
  async doctor(): Promise<{ records: number; stale: number }> {
    const view = await readMetaDb(
      join(this.root, 'var/lib/containerd/io.containerd.metadata.v1.bolt/meta.db'),
    );
    const backend = await readBackendInventory({ root: { path: this.dataDir, how: 'the test node' } });
    const report = diagnose(view, NYDUS, backend);
    return { records: report.records, stale: report.staleRecords.length };
  }

  async nydusPid(): Promise<number | undefined> {
    const text = await this.host.readText(`/run/kata-deploy/services/${NYDUS_UNIT}.pid`);
    return text === undefined ? undefined : Number(text.split(' ')[0]);
  }

  async dispose(): Promise<void> {
    const tasks = (await this.ctr(['tasks', 'ls', '-q']).catch(() => undefined))?.stdout ?? '';
    for (const id of tasks.split('\n').filter(Boolean)) await this.killTask(id);
    const pid = await this.nydusPid();
    if (pid !== undefined) spawnSync('kill', ['-9', String(pid)]);
    await this.host.services.stop(UNIT).catch(() => undefined);
    for (const m of (await mountsUnder(this.root)).reverse()) spawnSync('umount', ['-l', m.mountPoint]);
    removeCgroups(this.cgroup);
    await rm(this.root, { recursive: true, force: true });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Never throws for a non-zero exit: the tests assert on code, signal and output. */
const run = (command: string, args: string[], env?: Record<string, string>): Promise<Cli> =>
  runCommand(command, args, {
    env: env ? { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env } : process.env,
    allowFail: true,
    timeoutMs: 300_000,
  });

async function startSandbox(version: ContainerdVersion): Promise<Sandbox> {
  const bins = containerdBinaries(version);
  const root = await mkdtemp('/tmp/kdn-');
  const sb = new Sandbox(root, version);
  sandboxes.push(sb);
  for (const d of ['etc/containerd', 'etc/kata-deploy/services', 'etc/cni/net.d', 'run/containerd'])
    await mkdir(join(root, d), { recursive: true });
  await writeFile(join(root, 'etc/containerd/config.toml'), userConfig(root, version));
  await writeFile(
    join(root, 'etc/kata-deploy/services', `${UNIT}.json`),
    containerdSpec(root, bins.containerd, bins.shimDir),
  );
  await sb.host.services.start(UNIT);
  await waitContainerdAnswer(sb.socket, 30_000);
  return sb;
}

const outcome = (r: RunResult) => r.snapshotters?.find((o) => o.snapshotter === NYDUS);

describe('nydus on containerd 2.1', () => {
  it("reproduces the seed's failure: wiping the data dir behind containerd's back breaks the next pull", async () => {
    const sb = await startSandbox('2.1');
    await sb.ok('install');
    await sb.mustPull(refs['app']!, 'after install');
    // What upstream once did on every install: stop, rm -rf the data dir, start.
    const pid = await sb.nydusPid();
    await sb.host.services.stop(NYDUS_UNIT);
    assert.ok(pid !== undefined);
    await rm(sb.dataDir, { recursive: true, force: true });
    await sb.host.services.start(NYDUS_UNIT);
    const broken = await sb.pull(refs['app']!);
    assert.notEqual(broken.code, 0, 'the pull after a blind wipe must fail');
    assert.match(broken.stderr, /already exists|missing parent|not found/);
    assert.ok((await sb.doctor()).stale > 0, 'the doctor sees the stale records');
    await sb.dispose();
  });

  it('install → pull → upgrade → pull → uninstall → install → pull: every pull works, no stale record', async () => {
    const sb = await startSandbox('2.1');
    const first = await sb.ok('install');
    assert.ok(first.steps.some((s) => s.kind === 'waitSnapshotter'));
    const config = await readFile(join(sb.root, 'opt/kata/containerd/config.d/kata-deploy.toml'), 'utf8');
    assert.match(config, /\[proxy_plugins\.("?)nydus-for-kata-tee\1\]/);
    assert.match(config, /disable_snapshot_annotations = false/);
    assert.match(config, /snapshotter = "nydus-for-kata-tee"/);
    await sb.mustPull(refs['app']!, 'after install');
    const upgrade = await sb.ok('install');
    assert.equal(outcome(upgrade)?.decision, 'wiped', JSON.stringify(upgrade.snapshotters));
    await sb.mustPull(refs['app']!, 'after the upgrade');
    assert.deepEqual(await sb.doctor(), { records: 4, stale: 0 });
    const cleanup = await sb.ok('cleanup');
    assert.equal(outcome(cleanup)?.decision, 'wiped');
    assert.equal(existsSync(sb.dataDir), false, 'data dir wiped');
    assert.equal((await sb.doctor()).records, 0);
    await sb.ok('install');
    await sb.mustPull(refs['app']!, 'after reinstall');
    assert.deepEqual(await sb.doctor(), { records: 4, stale: 0 });
    await sb.dispose();
  });

  it('a running container keeps the data dir through upgrade and uninstall; once gone, the next cycle cleans fully', async () => {
    const sb = await startSandbox('2.1');
    await sb.ok('install');
    await sb.mustPull(refs['busybox']!, 'busybox');
    await sb.runContainer('c1');
    const upgrade = await sb.ok('install');
    const kept = outcome(upgrade);
    assert.equal(kept?.decision, 'kept', JSON.stringify(upgrade.snapshotters));
    assert.deepEqual(
      kept?.heldBy.map((h) => `${h.container}:${h.taskStatus}`),
      ['c1:RUNNING'],
    );
    assert.equal(await sb.taskStatus('c1'), 'RUNNING');
    assert.ok(existsSync(sb.dataDir));
    await sb.mustPull(refs['app']!, 'after an upgrade that kept the data');

    await sb.killTask('c1');
    const clean = await sb.ok('install');
    assert.equal(outcome(clean)?.decision, 'wiped', JSON.stringify(clean.snapshotters));
    await sb.mustPull(refs['app']!, 'after the upgrade that wiped');

    await sb.runContainer('c2');
    const uninstall = await sb.ok('cleanup');
    assert.equal(outcome(uninstall)?.decision, 'kept');
    assert.deepEqual(
      outcome(uninstall)?.heldBy.map((h) => h.container),
      ['c2'],
    );
    assert.equal(await sb.taskStatus('c2'), 'RUNNING', 'the task survives the uninstall');
    assert.ok(existsSync(sb.dataDir));
    assert.equal((await sb.doctor()).stale, 0);

    await sb.killTask('c2');
    const back = await sb.ok('install'); // the snapshotter is down: meta.db still has records, so the dir stays
    assert.equal(outcome(back)?.decision, 'kept');
    await sb.mustPull(refs['app']!, 'after reinstalling on the kept data');
    const full = await sb.ok('cleanup');
    assert.equal(outcome(full)?.decision, 'wiped', JSON.stringify(full.snapshotters));
    assert.equal(existsSync(sb.dataDir), false);
    assert.deepEqual(await sb.doctor(), { records: 0, stale: 0 });
    await sb.dispose();
  });

  it('snapshotter down at uninstall: wiped only when meta.db has no record of it, never stale', async () => {
    const sb = await startSandbox('2.1');
    await sb.ok('install'); // nothing pulled: the data dir exists, meta.db holds no record of nydus
    assert.ok(existsSync(sb.dataDir));
    await sb.host.services.stop(NYDUS_UNIT);
    const empty = await sb.ok('cleanup');
    assert.equal(outcome(empty)?.decision, 'wiped', JSON.stringify(empty.snapshotters));
    assert.equal(outcome(empty)?.source, 'meta.db');
    assert.equal(existsSync(sb.dataDir), false);
    assert.deepEqual(await sb.doctor(), { records: 0, stale: 0 });

    await sb.ok('install');
    await sb.mustPull(refs['app']!, 'after install');
    await sb.host.services.stop(NYDUS_UNIT);
    const withRecords = await sb.ok('cleanup');
    const o = outcome(withRecords);
    assert.equal(o?.decision, 'kept');
    assert.equal(o?.source, 'meta.db');
    assert.equal(o?.records, 4);
    assert.ok(existsSync(sb.dataDir));
    assert.deepEqual(await sb.doctor(), { records: 4, stale: 0 });
    await sb.ok('install');
    await sb.mustPull(refs['app']!, 'after reinstalling on the kept data');
    await sb.dispose();
  });

  it('killed after a step of an upgrade, the next install converges and a pull works', async () => {
    const sb = await startSandbox('2.1');
    await sb.ok('install');
    await sb.mustPull(refs['app']!, 'after install');
    const plan = await sb.cli('install', {}, ['--dry-run']);
    const steps = (JSON.parse(plan.stdout) as RunResult).steps;
    const representative = new Set([
      'cleanSnapshotterRecords',
      'wipeSnapshotterData',
      'copyFile',
      'service',
      'waitSnapshotter',
    ]);
    const seen = new Set<string>();
    const points = steps
      .map((s, i) => ({ s, i }))
      .filter(({ s, i }) => {
        if (i === steps.length - 1) return false;
        if (EVERY_STEP) return true;
        const key = s.kind === 'service' ? `service ${s.action}` : s.kind;
        if (!representative.has(s.kind) || seen.has(key)) return false;
        seen.add(key);
        return true;
      })
      .map(({ i }) => i + 1);
    assert.ok(points.length >= 5, `representative steps: ${points.join(', ')}`);
    for (const n of points) {
      const crashed = await sb.cli('install', { KATA_DEPLOY_TEST_CRASH_AFTER_STEP: String(n) });
      assert.equal(
        crashed.signal,
        'SIGKILL',
        `killed after step ${n} (${steps[n - 1]?.kind}): ${crashed.stderr}`,
      );
      await sb.ok('install');
      await sb.mustPull(refs['app']!, `after a crash at step ${n} (${steps[n - 1]?.kind})`);
      assert.equal((await sb.doctor()).stale, 0, `no stale record after a crash at step ${n}`);
    }
    await sb.dispose();
  });
});

describe('nydus on containerd 1.6 (a proxy plugin, no handler mapping)', () => {
  it('install → pull → upgrade → pull → uninstall wipes, pull after reinstall works', async () => {
    const sb = await startSandbox('1.6');
    await sb.ok('install');
    const config = await readFile(join(sb.root, 'etc/containerd/config.toml'), 'utf8');
    assert.match(config, /\[proxy_plugins\.("?)nydus-for-kata-tee\1\]/);
    await sb.mustPull(refs['app']!, 'after install');
    assert.equal(outcome(await sb.ok('install'))?.decision, 'wiped');
    await sb.mustPull(refs['app']!, 'after the upgrade');
    assert.equal(outcome(await sb.ok('cleanup'))?.decision, 'wiped');
    assert.equal(existsSync(sb.dataDir), false);
    await sb.ok('install');
    await sb.mustPull(refs['app']!, 'after reinstall');
    assert.deepEqual(await sb.doctor(), { records: 4, stale: 0 });
    await sb.ok('cleanup');
    await sb.dispose();
  });
});

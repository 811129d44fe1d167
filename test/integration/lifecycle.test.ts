/**
 * `kata-deploy install | cleanup` against real containerd 1.6, 1.7 and 2.1, run by the process supervisor from a
 * sandbox host root laid out like a node. containerd runs in a private mount namespace where the sandbox's
 * /etc/containerd and /opt are bind-mounted over the real ones, so it reads exactly the node paths kata-deploy
 * writes into its configuration (imports, runtime_path, ConfigPath) while this process reaches them under
 * --host-root. Its root, state and sockets are plain paths inside the sandbox.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, writeFile, readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { containerdBinaries, type ContainerdVersion, type RunResult } from '../bed/index.js';
import { runCli } from '../support/cli.js';
import { createHost, type Host } from '../../src/host/index.js';
import { criStatus, snapshotTree } from '../support/node-tree.js';
import { crashPoints } from '../support/crash-points.js';
import {
  containerdServiceSpec,
  nodeContainerdConfig as userConfig,
  waitContainerdAnswer as waitAnswer,
  writeCriBreaker,
} from '../support/node-root.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PAYLOAD = join(REPO, 'test/fixtures/payload');
const HANDLERS = ['kata-qemu', 'kata-qemu-runtime-rs', 'kata-clh'];
const UNIT = 'containerd.service';
/** What containerd itself changes in the sandbox; everything else must come back byte for byte. */
const VOLATILE = new Set(['run', 'var/lib/containerd', 'var/lib/containerd-opt', 'var/log']);

interface Sandbox {
  readonly root: string;
  readonly socket: string;
  readonly bin: string;
  readonly host: Host;
  cli(action: string, env?: Record<string, string>, extra?: string[]): Promise<CliResult>;
  snapshot(): Promise<Record<string, string>>;
  dispose(): Promise<void>;
}

type CliResult = RunResult;

const sandboxes: Sandbox[] = [];
after(async () => {
  for (const sb of sandboxes) await sb.dispose();
});

interface SandboxOptions {
  /** containerd's CRI plugin fails to load once its config mentions kata-deploy (writeCriBreaker). */
  readonly breakCri?: boolean;
  /** The operator's containerd config, instead of nodeContainerdConfig's. */
  readonly config?: (root: string) => string;
}

async function startSandbox(version: ContainerdVersion, options: SandboxOptions = {}): Promise<Sandbox> {
  const bins = containerdBinaries(version);
  const root = await mkdtemp('/tmp/kdl-');
  for (const d of [
    'etc/containerd',
    'etc/kata-deploy/services',
    'etc/cni/net.d',
    'run/containerd',
    'var/lib/containerd',
  ]) {
    await mkdir(join(root, d), { recursive: true });
  }
  await writeFile(
    join(root, 'etc/containerd/config.toml'),
    options.config?.(root) ?? userConfig(root, version),
  );
  if (options.breakCri) await writeCriBreaker(root);
  await writeFile(
    join(root, 'etc/kata-deploy/services', `${UNIT}.json`),
    containerdServiceSpec({
      root,
      bin: bins.containerd,
      shimDir: bins.shimDir,
      breakCri: options.breakCri ?? false,
    }),
  );
  const host = createHost({ root, serviceManager: 'process' });
  const socket = join(root, 'run/containerd/containerd.sock');
  await host.services.start(UNIT);
  await waitAnswer(socket);
  const sb: Sandbox = {
    root,
    socket,
    bin: bins.containerd,
    host,
    cli: (action, env = {}, extra = []) =>
      runCli(
        [
          action,
          '--host-root',
          root,
          '--service-manager',
          'process',
          '--containerd-bin',
          bins.containerd,
          '--runtime',
          'containerd',
        ]
          .concat(action === 'install' ? ['--artifacts-dir', PAYLOAD] : [])
          .concat(extra),
        {
          env: { NODE_NAME: 'sandbox-node', SHIMS_X86_64: HANDLERS.map((h) => h.slice(5)).join(' '), ...env },
        },
      ),
    snapshot: () => snapshot(root),
    async dispose() {
      await host.services.stop(UNIT).catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    },
  };
  sandboxes.push(sb);
  return sb;
}

const snapshot = (root: string) => snapshotTree(root, VOLATILE);

function assertOk(r: CliResult, what: string): void {
  assert.equal(r.code, 0, `${what} failed (${r.code ?? r.signal}):\n${r.stderr}\n${r.stdout}`);
}

async function pidOf(sb: Sandbox): Promise<string | undefined> {
  return (await sb.host.readText(`/run/kata-deploy/services/${UNIT}.pid`))?.split(' ')[0];
}

for (const version of ['1.6', '1.7', '2.1'] as const) {
  describe(`containerd ${version}`, () => {
    it('install 3 shims → restart serves the handlers → reinstall changes nothing → cleanup restores the tree → reset', async () => {
      const sb = await startSandbox(version);
      const before = await sb.snapshot();
      const pid = await pidOf(sb);

      assertOk(await sb.cli('install'), 'install');
      assert.notEqual(await pidOf(sb), pid, 'containerd was restarted');
      const status = await criStatus(sb.socket);
      assert.ok(status, 'the CRI plugin serves');
      for (const h of HANDLERS)
        assert.ok(status.handlers.includes(h), `CRI status lists ${h}: ${status.handlers.join(',')}`);
      const installed = await sb.snapshot();
      assert.ok(installed['opt/kata/bin/containerd-shim-kata-v2']);

      const again = await sb.cli('install');
      assertOk(again, 'second install');
      assert.match(again.stdout, /applied 1 steps:\n +1\. check that containerd serves/);
      assert.deepEqual(await sb.snapshot(), installed, 'install twice = install once');

      assertOk(await sb.cli('cleanup'), 'cleanup');
      assert.deepEqual(await sb.snapshot(), before, 'config, drop-ins and install dir as before');
      const gone = await criStatus(sb.socket);
      for (const h of HANDLERS) assert.ok(!gone?.handlers.includes(h), `${h} is no longer served`);

      const beforeReset = await pidOf(sb);
      assertOk(await sb.cli('reset'), 'reset');
      assert.notEqual(await pidOf(sb), beforeReset, 'reset restarted containerd');
      await waitAnswer(sb.socket);
      assert.deepEqual(await sb.snapshot(), before, 'reset changes no file');
      await sb.dispose();
    });
  });
}

describe('containerd 2.1: killed after a step, install and cleanup converge', () => {
  it('install again reaches the complete state; cleanup after a partial install restores the host', async () => {
    const sb = await startSandbox('2.1');
    const before = await sb.snapshot();
    const plan = await sb.cli('install', {}, ['--dry-run', '--json']);
    assertOk(plan, 'dry run');
    const steps = (JSON.parse(plan.stdout) as { steps: { kind: string; path?: string }[] }).steps;
    assertOk(await sb.cli('install'), 'install');
    const complete = await sb.snapshot();
    assertOk(await sb.cli('cleanup'), 'cleanup');
    assert.deepEqual(await sb.snapshot(), before);

    for (const n of crashPoints(steps).map(String)) {
      const crashed = await sb.cli('install', { KATA_DEPLOY_TEST_CRASH_AFTER_STEP: n });
      assert.equal(crashed.signal, 'SIGKILL', `install was killed after step ${n}: ${crashed.stderr}`);
      assertOk(await sb.cli('install'), `install after a crash at step ${n}`);
      assert.deepEqual(await sb.snapshot(), complete, `converged after a crash at step ${n}`);
      assertOk(await sb.cli('cleanup'), 'cleanup');
      assert.deepEqual(await sb.snapshot(), before, `cleanup after a crash at step ${n}`);

      const partial = await sb.cli('install', { KATA_DEPLOY_TEST_CRASH_AFTER_STEP: n });
      assert.equal(partial.signal, 'SIGKILL');
      assertOk(await sb.cli('cleanup'), `cleanup of a partial install (step ${n})`);
      assert.deepEqual(await sb.snapshot(), before, `partial install up to step ${n} cleaned up`);
    }
    const status = await criStatus(sb.socket);
    assert.ok(status && !status.handlers.some((h) => h.startsWith('kata-')));
    await sb.dispose();
  });
});

describe('containerd 1.7: a restart that fails', () => {
  it('restores the previous configuration, restarts containerd with it and fails with the reason', async () => {
    const sb = await startSandbox('1.7');
    const bins = containerdBinaries('1.7');
    const spec = join(sb.root, 'etc/kata-deploy/services', `${UNIT}.json`);
    const original = await readFile(join(sb.root, 'etc/containerd/config.toml'), 'utf8');
    await writeFile(
      spec,
      containerdServiceSpec({ root: sb.root, bin: bins.containerd, shimDir: bins.shimDir, refuse: true }),
    );
    const r = await sb.cli('install', {}, ['--restart-timeout', '3000']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /did not come back with the new configuration/);
    assert.match(r.stderr, /refusing a kata config/);
    assert.match(
      r.stderr,
      /restored \/etc\/containerd\/config\.toml to the content before this run, then restarted containerd\.service: containerd answers and its CRI plugin serves again/,
    );
    assert.equal(await readFile(join(sb.root, 'etc/containerd/config.toml'), 'utf8'), original);
    await waitAnswer(sb.socket, 5000);

    await writeFile(
      spec,
      containerdServiceSpec({ root: sb.root, bin: bins.containerd, shimDir: bins.shimDir }),
    );
    assertOk(await sb.cli('cleanup'), 'cleanup after the failed install');
    assert.equal(await readFile(join(sb.root, 'etc/containerd/config.toml'), 'utf8'), original);
    assert.equal(await sb.host.lstat('/opt'), undefined);
    await sb.dispose();
  });
});

describe('containerd 2.1: the restart verdict rests on CRI', () => {
  it('a configuration that makes the CRI plugin fail to load is restored; CRI serves again; exit 3', async () => {
    const sb = await startSandbox('2.1', { breakCri: true });
    const before = await sb.snapshot();
    const original = await readFile(join(sb.root, 'etc/containerd/config.toml'), 'utf8');
    assert.ok(await criStatus(sb.socket), 'CRI serves before the install');

    const r = await sb.cli('install', {}, ['--json', '--restart-timeout', '20000']);
    assert.equal(r.code, 3, `${r.stderr}\n${r.stdout}`);
    const error = (JSON.parse(r.stdout) as { error: { kind: string; message: string; hint: string } }).error;
    process.stdout.write(`# install's JSON error: ${JSON.stringify(error)}\n`);
    assert.equal(error.kind, 'PartialApplyError');
    assert.match(
      error.message,
      /containerd restarted with the new configuration, but the CRI plugin no longer serves after the restart/,
    );
    assert.match(
      error.message,
      /containerd says: io\.containerd\.cri\.v1\.runtime: .*no corresponding runtime configured/,
    );
    assert.match(
      error.message,
      /restored \/etc\/containerd\/config\.toml to the content before this run and removed \/opt\/kata\/containerd\/config\.d\/kata-deploy\.toml \(not there before this run\), then restarted containerd\.service: containerd answers and its CRI plugin serves again/,
    );
    assert.equal(await readFile(join(sb.root, 'etc/containerd/config.toml'), 'utf8'), original);
    assert.equal(await sb.host.lstat('/opt/kata/containerd/config.d/kata-deploy.toml'), undefined);
    const status = await criStatus(sb.socket);
    assert.ok(status, 'CRI serves again after the rollback');
    assert.ok(!status.handlers.some((h) => h.startsWith('kata-')), status.handlers.join(','));

    assertOk(await sb.cli('cleanup'), 'cleanup after the rolled-back install');
    assert.deepEqual(await sb.snapshot(), before);
    await sb.dispose();
  });

  it('without CRI before the restart the verdict is unknown: no rollback, exit 1, the evidence in the result', async () => {
    const withoutCri = (root: string) =>
      userConfig(root, '2.1').replace(
        'disabled_plugins = ["io.containerd.nri.v1.nri"]',
        'disabled_plugins = ["io.containerd.nri.v1.nri", "io.containerd.grpc.v1.cri", "io.containerd.cri.v1.images", "io.containerd.cri.v1.runtime"]',
      );
    const sb = await startSandbox('2.1', { config: withoutCri });
    const before = await sb.snapshot();
    assert.equal(await criStatus(sb.socket), undefined, 'no CRI on this node');

    const r = await sb.cli('install', {}, ['--json']);
    assert.equal(r.code, 1, `${r.stderr}\n${r.stdout}`);
    const result = JSON.parse(r.stdout) as {
      verification: {
        verdict: string;
        rollback: boolean;
        evidence: { kind: string; status: string }[];
        missing: string[];
      };
    };
    process.stdout.write(`# install's verification: ${JSON.stringify(result.verification)}\n`);
    assert.equal(result.verification.verdict, 'unknown');
    assert.equal(result.verification.rollback, false);
    assert.deepEqual(
      result.verification.evidence.map((e) => [e.kind, e.status]),
      [
        ['containerd-answers', 'seen'],
        ['cri-handlers', 'not-seen'],
        ['config-dump', 'seen'],
      ],
    );
    assert.match(result.verification.missing.join('\n'), /did not before the restart either/);
    assert.match(await readFile(join(sb.root, 'etc/containerd/config.toml'), 'utf8'), /kata-deploy\.toml/);

    const text = await sb.cli('install');
    assert.equal(text.code, 1);
    assert.match(
      text.stdout,
      /check that containerd serves kata-qemu, kata-qemu-runtime-rs, kata-clh: UNKNOWN\n/,
    );

    // For cleanup a CRI plugin that does not serve at all is positive evidence of absence.
    assertOk(await sb.cli('cleanup'), 'cleanup');
    assert.deepEqual(await sb.snapshot(), before);
    await sb.dispose();
  });
});

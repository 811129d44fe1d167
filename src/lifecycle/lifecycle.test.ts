import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, mkdir, writeFile, readFile, readdir, lstat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors/index.js';
import { loadSettings } from '../settings/index.js';
import { createHost, type Host } from '../host/index.js';
import { silentLogger } from '../output/log.js';
import { runLifecycle } from './run.js';
import { observe } from './observe.js';
import { planInstall } from './plan-install.js';
import { planCleanup } from './plan-cleanup.js';
import { applySteps } from './apply.js';
import type { Verifier } from './verify/verifier.js';
import { judgeRestart } from './verify/verdict.js';
import { snapshotTree } from '../../test/support/node-tree.js';
import { idleServices } from '../../test/support/idle-services.js';

/** KATA_DEPLOY_TEST_EVERY_STEP=1: crash after every single step, not one per run of similar steps. */
const EVERY_STEP = process.env['KATA_DEPLOY_TEST_EVERY_STEP'] === '1';
const PAYLOAD = resolve(dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/payload');
const USER_CONFIG = `# the operator's containerd config
version = 2

[plugins."io.containerd.grpc.v1.cri".containerd]
  default_runtime_name = "runc" # keep runc the default
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
`;

let root: string;
let calls: string[];

const fakeVerifier = (): Verifier => ({
  recordCriBefore: async () => ({ state: 'serves', handlers: [] }),
  restart: async (unit) => void calls.push(`restart ${unit}`),
  verify: async (handlers, expect) => {
    calls.push(`verify ${expect} ${handlers.join(',')}`);
    return judgeRestart({
      expect,
      handlers,
      criBefore: undefined,
      containerd: { state: 'answers', version: '1.7.24' },
      cri: { state: 'serves', handlers: expect === 'present' ? handlers : [] },
      dump: { state: 'not-applicable', reason: 'no containerd here' },
    });
  },
});
const services = idleServices();

function setup(env: Record<string, string> = {}) {
  const settings = loadSettings({
    env: {
      NODE_NAME: 'n',
      SHIMS_X86_64: 'qemu qemu-runtime-rs clh',
      CONTAINER_RUNTIME_VERSION: 'containerd://1.7.24',
      ...env,
    },
    flags: { hostRoot: root, artifactsDir: PAYLOAD, runtime: 'containerd', serviceManager: 'process' },
    arch: 'x86_64',
  });
  const host = createHost({ root, serviceManager: services });
  return {
    settings,
    host,
    run: (action: 'install' | 'cleanup') =>
      runLifecycle(action, { settings, host, log: silentLogger, verifier: fakeVerifier }),
  };
}

/** Every file, link and directory under the root (run/ excluded unless `withRun`), with content hashes. */
const snapshot = (dir = root, withRun = false) => snapshotTree(dir, new Set(withRun ? [] : ['run']));

async function resetRoot() {
  for (const name of await readdir(root)) await rm(join(root, name), { recursive: true, force: true });
  await mkdir(join(root, 'etc/containerd'), { recursive: true });
  await writeFile(join(root, 'etc/containerd/config.toml'), USER_CONFIG);
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'kd-life-'));
  calls = [];
  await resetRoot();
});
afterEach(async () => rm(root, { recursive: true, force: true }));

describe('install and cleanup (containerd 1.7, whole file)', () => {
  it('installs, is idempotent, and cleans up to the same bytes', async () => {
    const { run } = setup();
    const before = await snapshot();
    const first = await run('install');
    assert.ok(first.applied > 40);
    assert.deepEqual(calls, [
      'restart containerd.service',
      'verify present kata-qemu,kata-qemu-runtime-rs,kata-clh',
    ]);
    const installed = await snapshot();
    assert.match(
      installed['opt/kata/share/defaults/kata-containers/configuration-qemu.toml']!,
      /^link runtimes\/qemu\//,
    );
    assert.match(installed['opt/kata/bin/containerd-shim-kata-v2']!, /^file 755 /);
    assert.equal(installed['opt/kata/bin/kata-ctl'], undefined, 'kata-ctl only with DEBUG');
    const config = await readFile(join(root, 'etc/containerd/config.toml'), 'utf8');
    assert.ok(config.startsWith(USER_CONFIG));
    assert.match(
      config,
      /runtimes\.kata-clh\.options\]\nConfigPath = "\/opt\/kata\/share\/defaults\/kata-containers\/runtimes\/clh\/configuration-clh.toml"/,
    );

    calls = [];
    const second = await run('install');
    assert.deepEqual(
      second.steps.map((s) => s.kind),
      ['verifyHandlers'],
    );
    assert.deepEqual(await snapshot(), installed);

    await run('cleanup');
    assert.deepEqual(await snapshot(), before);
    assert.deepEqual(calls.slice(-2), [
      'restart containerd.service',
      'verify absent kata-qemu,kata-qemu-runtime-rs,kata-clh',
    ]);
  });

  it('keeps a user edit made after install', async () => {
    const { run } = setup();
    await run('install');
    const path = join(root, 'etc/containerd/config.toml');
    await writeFile(
      path,
      (await readFile(path, 'utf8')).replace('version = 2\n', 'version = 2\noom_score = -999\n'),
    );
    await run('cleanup');
    assert.equal(
      await readFile(path, 'utf8'),
      USER_CONFIG.replace('version = 2\n', 'version = 2\noom_score = -999\n'),
    );
  });

  it('removes what a smaller shim list no longer needs', async () => {
    await setup().run('install');
    await setup({ SHIMS_X86_64: 'qemu', DEBUG: 'true' }).run('install');
    const s = await snapshot();
    assert.equal(s['opt/kata/share/defaults/kata-containers/runtimes/clh'], undefined);
    assert.match(s['opt/kata/share/defaults/kata-containers/configuration-clh.toml']!, /^file /);
    assert.ok(
      s['opt/kata/share/defaults/kata-containers/custom-runtimes/kata-qemu-debug/config.d/20-debug.toml'],
    );
    assert.ok(s['opt/kata/bin/kata-ctl']);
    const config = await readFile(join(root, 'etc/containerd/config.toml'), 'utf8');
    assert.doesNotMatch(config, /kata-clh/);
    assert.match(config, /kata-qemu-debug/);
    assert.match(config, /\[debug\]\nlevel = "debug"/);
    await setup({ SHIMS_X86_64: 'qemu', DEBUG: 'true' }).run('cleanup');
    assert.equal(await readFile(join(root, 'etc/containerd/config.toml'), 'utf8'), USER_CONFIG);
  });
});

describe('install with a prefix and a suffix (containerd 2.1, drop-in)', () => {
  const env = {
    CONTAINER_RUNTIME_VERSION: 'containerd://2.1.9',
    INSTALLATION_PREFIX: '/usr/local',
    MULTI_INSTALL_SUFFIX: 'coco',
    AGENT_HTTPS_PROXY: 'qemu=http://proxy:3128',
    ALLOWED_HYPERVISOR_ANNOTATIONS_X86_64: 'qemu:default_vcpus',
    EXPERIMENTAL_FORCE_GUEST_PULL_X86_64: 'qemu',
  };
  it('writes the drop-ins upstream writes and removes every trace', async () => {
    const { run } = setup(env);
    const before = await snapshot();
    await run('install');
    const dir = join(root, 'usr/local/opt/kata-coco/share/defaults/kata-containers/runtimes/qemu');
    const prefix = await readFile(join(dir, 'config.d/10-installation-prefix.toml'), 'utf8');
    assert.match(
      prefix,
      /path = "\/usr\/local\/opt\/kata-coco\/bin\/qemu-system-x86_64-installation-prefix"/,
    );
    assert.match(
      prefix,
      /kernel = "\/usr\/local\/opt\/kata-coco\/share\/kata-containers\/vmlinux.container"/,
    );
    const wrapper = await readFile(
      join(root, 'usr/local/opt/kata-coco/bin/qemu-system-x86_64-installation-prefix'),
      'utf8',
    );
    assert.match(wrapper, /-L \/usr\/local\/opt\/kata-coco\/share\/kata-qemu\/qemu\//);
    assert.match(
      await readFile(join(dir, 'config.d/30-kernel-params.toml'), 'utf8'),
      /kernel_params = "cgroup_no_v1=all agent.https_proxy=http:\/\/proxy:3128"/,
    );
    const managed = await readFile(join(dir, 'configuration-qemu.toml'), 'utf8');
    assert.match(managed, /^# =+\n# IMPORTANT: This file is managed by kata-deploy/);
    assert.match(
      managed,
      /enable_annotations = \["default_vcpus", "enable_iommu", "kernel_params", "virtio_fs_extra_args"\]/,
    );
    assert.match(managed, /experimental_force_guest_pull = true/);
    const main = await readFile(join(root, 'etc/containerd/config.toml'), 'utf8');
    assert.match(
      main,
      /imports = \[ "\/usr\/local\/opt\/kata-coco\/containerd\/config.d\/kata-deploy.toml" \]/,
    );
    await run('cleanup');
    assert.deepEqual(await snapshot(), before);
  });
});

describe('convergence after a crash at each step', () => {
  it('install again converges; cleanup after a partial install restores the host', async () => {
    const { settings, host } = setup();
    const before = await snapshot();
    await runLifecycle('install', { settings, host, log: silentLogger, verifier: fakeVerifier });
    const complete = await snapshot();
    await runLifecycle('cleanup', { settings, host, log: silentLogger, verifier: fakeVerifier });
    const steps = planInstall(
      settings,
      await observe({ settings, host, log: silentLogger, withArtifacts: true }),
      [],
    );
    // Runs of artifact steps (dozens of payload copies) are represented by their first and last step.
    const group = (n: number) => {
      const step = steps[n - 1];
      if (step === undefined) return undefined;
      const inside = 'path' in step && step.path.startsWith('/opt/kata');
      return ['mkdir', 'copyFile', 'symlink', 'writeFile'].includes(step.kind) && inside
        ? 'artifact'
        : step.kind;
    };
    const firstOf = (pred: (n: number) => boolean) => steps.findIndex((_, i) => pred(i + 1)) + 1;
    const extra = new Set([
      ...steps.map((t) => firstOf((n) => steps[n - 1]!.kind === t.kind)),
      firstOf((n) => steps[n - 1]!.kind === 'writeFile' && group(n) === 'artifact'),
    ]);
    const points = steps
      .map((_, i) => i + 1)
      .filter((n) => n < steps.length)
      .filter((n) => EVERY_STEP || group(n - 1) !== group(n) || group(n + 1) !== group(n) || extra.has(n));
    assert.ok(points.length >= 10, `crash points: ${points.join(',')}`);
    for (const n of points) {
      await crashAfter(settings, host, n);
      await runLifecycle('install', { settings, host, log: silentLogger, verifier: fakeVerifier });
      assert.deepEqual(await snapshot(), complete, `install after a crash at step ${n}`);
      await resetRoot();
      await crashAfter(settings, host, n);
      await runLifecycle('cleanup', { settings, host, log: silentLogger, verifier: fakeVerifier });
      assert.deepEqual(await snapshot(), before, `cleanup after a crash at step ${n}`);
      await resetRoot();
    }
  });
});

describe('convergence after a crash at each step of cleanup', () => {
  it('cleanup again restores the host, whichever step the first cleanup died after', async () => {
    // /var/lib exists on every node: a cleanup that lost its state after removing it knows that
    // /var/lib/kata-deploy is kata-deploy's by name, but not who created /var/lib.
    await mkdir(join(root, 'var/lib'), { recursive: true });
    const { settings, host, run } = setup();
    const before = await snapshot();
    await run('install');
    const observed = await observe({ settings, host, log: silentLogger, withArtifacts: false });
    const steps = planCleanup(settings, observed, []);
    for (let n = 1; n < steps.length; n++) {
      await applySteps(steps.slice(0, n), {
        host,
        names: observed.names,
        log: silentLogger,
        verifier: fakeVerifier(),
        verifications: [],
        command: 'cleanup',
        outcomes: new Map(),
      });
      await run('cleanup');
      assert.deepEqual(
        await snapshot(),
        before,
        `cleanup after a crash after step ${n} (${steps[n - 1]!.kind})`,
      );
      await run('install');
    }
  });
});

/** Applies the first `n` steps of a fresh install plan, as a run killed after step n leaves the host. */
async function crashAfter(settings: ReturnType<typeof setup>['settings'], host: Host, n: number) {
  const observed = await observe({ settings, host, log: silentLogger, withArtifacts: true });
  const steps = planInstall(settings, observed, []);
  await applySteps(steps.slice(0, n), {
    host,
    names: observed.names,
    log: silentLogger,
    verifier: fakeVerifier(),
    command: 'install',
    outcomes: new Map(),
    verifications: [],
  });
}

describe('cleanup without a state file', () => {
  it('removes kata-deploy by name', async () => {
    const { settings, host, run } = setup();
    await run('install');
    await rm(join(root, 'var/lib/kata-deploy'), { recursive: true });
    const observed = await observe({ settings, host, log: silentLogger, withArtifacts: false });
    const steps = planCleanup(settings, observed, []);
    await applySteps(steps, {
      host,
      names: observed.names,
      log: silentLogger,
      verifier: fakeVerifier(),
      command: 'cleanup',
      outcomes: new Map(),
      verifications: [],
    });
    const config = await readFile(join(root, 'etc/containerd/config.toml'), 'utf8');
    assert.equal(config, USER_CONFIG);
    assert.equal((await snapshot())['opt/kata'], undefined);
  });
});

describe('a refused run leaves the host root exactly as it was (nothing written, the lock included)', () => {
  const refusals: [string, 'install' | 'cleanup', Record<string, string>, RegExp][] = [
    [
      'a shim the payload has no configuration for',
      'install',
      { SHIMS_X86_64: 'qemu qemu-se' },
      /has no configuration for qemu-se/,
    ],
    [
      'a machine-id mismatch',
      'install',
      { NODE_MACHINE_ID: 'a'.repeat(32) },
      /does not match this host's \/etc\/machine-id/,
    ],
    [
      'CRI-O',
      'install',
      { CONTAINER_RUNTIME_VERSION: 'cri-o://1.30.0' },
      /CRI-O and other runtimes are not supported/,
    ],
    [
      'CRI-O, on cleanup',
      'cleanup',
      { CONTAINER_RUNTIME_VERSION: 'cri-o://1.30.0' },
      /CRI-O and other runtimes are not supported/,
    ],
    [
      'a suffix on containerd 1.7',
      'install',
      { MULTI_INSTALL_SUFFIX: 'x' },
      /needs containerd drop-in support/,
    ],
    [
      'nydus without its binaries',
      'install',
      { EXPERIMENTAL_SETUP_SNAPSHOTTER: 'nydus' },
      /has no nydus-snapshotter\//,
    ],
    [
      'a snapshotter mapping on containerd 1.6',
      'install',
      {
        CONTAINER_RUNTIME_VERSION: 'containerd://1.6.20',
        SNAPSHOTTER_HANDLER_MAPPING_X86_64: 'qemu:overlayfs',
      },
      /needs containerd 1.7 or later/,
    ],
  ];
  for (const [what, action, env, message] of refusals) {
    it(`${action}: ${what}`, async () => {
      const before = await snapshot(root, true);
      await assert.rejects(
        async () => setup(env).run(action),
        (e: unknown) => e instanceof UsageError && message.test(e.message),
      );
      assert.deepEqual(await snapshot(root, true), before);
    });
  }

  it('a corrupt install state: install and cleanup refuse with the file named', async () => {
    await mkdir(join(root, 'var/lib/kata-deploy'), { recursive: true });
    for (const text of [
      '{not json',
      '{"version":1}',
      JSON.stringify({
        version: 1,
        installDir: '/opt/kata',
        handlers: [],
        files: {},
        createdDirs: ['/'],
        phase: 'installed',
      }),
    ]) {
      await writeFile(join(root, 'var/lib/kata-deploy/install.json'), text);
      const before = await snapshot(root, true);
      for (const action of ['install', 'cleanup'] as const) {
        await assert.rejects(
          setup().run(action),
          /the install state \/.*install\.json is (not JSON|invalid)/,
        );
        assert.deepEqual(await snapshot(root, true), before, `${action} with ${text}`);
      }
    }
  });

  it('paths that cannot be written inside the root: a link leading out of it, a file for a directory', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'kd-outside-'));
    try {
      await writeFile(join(outside, 'config.toml'), USER_CONFIG);
      await rm(join(root, 'etc/containerd'), { recursive: true });
      await symlink(outside, join(root, 'etc/containerd'));
      let before = await snapshot(root, true);
      // Install would write there: refused. Cleanup finds no configuration there (the node would not either).
      await setup().run('cleanup');
      assert.deepEqual(await snapshot(root, true), before);
      for (const action of ['install'] as const) {
        await assert.rejects(
          setup().run(action),
          (e: unknown) =>
            e instanceof UsageError &&
            /\/etc\/containerd is a symlink to .* which does not exist under the host root/.test(e.message),
        );
        assert.deepEqual(await snapshot(root, true), before);
      }
      assert.deepEqual(await readdir(outside), ['config.toml']);
      await resetRoot();
      await writeFile(join(root, 'opt'), 'a file where the install dir goes');
      before = await snapshot(root, true);
      await assert.rejects(setup().run('install'), /\/opt is not a directory/);
      assert.deepEqual(await snapshot(root, true), before);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });
});

describe('a symlinked /etc/containerd inside the root', () => {
  for (const target of ['containerd-real', '/etc/containerd-real']) {
    it(`-> ${target}: install edits the real file, cleanup restores it and keeps the link`, async () => {
      await rm(join(root, 'etc/containerd'), { recursive: true });
      await mkdir(join(root, 'etc/containerd-real'));
      await writeFile(join(root, 'etc/containerd-real/config.toml'), USER_CONFIG);
      await symlink(target, join(root, 'etc/containerd'));
      const before = await snapshot(root, true);
      const { run } = setup();
      await run('install');
      assert.match(await readFile(join(root, 'etc/containerd-real/config.toml'), 'utf8'), /kata-qemu/);
      assert.equal((await lstat(join(root, 'etc/containerd'))).isSymbolicLink(), true);
      await run('cleanup');
      assert.deepEqual(await snapshot(root, true), before);
      assert.deepEqual(calls.slice(-2), [
        'restart containerd.service',
        'verify absent kata-qemu,kata-qemu-runtime-rs,kata-clh',
      ]);
    });
  }
});

describe('temp files left by killed runs', () => {
  it('are removed by the next install and the next cleanup, wherever kata-deploy writes', async () => {
    const { run } = setup();
    const before = await snapshot(root, true);
    const plant = async (existing = true) => {
      const temps = [
        'etc/containerd/.config.toml.kata-deploy.bak.kata-deploy-4242-0badc0de',
        'etc/containerd/.config.toml.kata-deploy-4242-0badc0de',
        'var/lib/kata-deploy/.install.json.kata-deploy-4242-0badc0de',
        'opt/kata/bin/.containerd-shim-kata-v2.kata-deploy-4242-0badc0de',
        'opt/kata/share/defaults/kata-containers/.configuration-qemu.toml.kata-deploy-4242-0badc0de',
      ];
      // Before an install only /etc/containerd exists: a run killed that early wrote nothing else.
      for (const t of existing ? temps : temps.slice(0, 2)) await writeFile(join(root, t), 'half');
    };
    await plant(false);
    await run('install');
    const installed = await snapshot(root, true);
    assert.deepEqual(
      Object.keys(installed).filter((p) => p.includes('.kata-deploy-4242-')),
      [],
    );
    await plant();
    await run('cleanup');
    assert.deepEqual(await snapshot(root, true), before);
  });
});

/**
 * A redeploy converges to exactly what the new settings ask (in process, fake restarts): every handler, variant,
 * custom runtime, drop-in, configuration directory, devkit file and log level the previous install created and
 * the new settings do not want is gone after one install, and the handlers it dropped are checked gone. The bed
 * tests (test/integration/redeploy.test.ts) do the same against real containerd.
 */
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeComponentPayload } from '../../test/support/component-payload.js';
import { createHost } from '../host/index.js';
import { silentLogger } from '../output/log.js';
import { loadSettings } from '../settings/index.js';
import { runLifecycle } from './run.js';
import type { Verifier } from './verify/verifier.js';
import { judgeRestart } from './verify/verdict.js';
import { parseToml } from '../containerd/config/toml.js';
import { idleServices } from '../../test/support/idle-services.js';

let work: string;
let payload: string;
let root: string;
let calls: string[];
let served: Set<string>;

const K = 'opt/kata/share/defaults/kata-containers';
const services = idleServices();
/** A containerd that serves what kata-deploy's drop-in names, read at each restart. */
const verifier = (): Verifier => ({
  recordCriBefore: async () => ({ state: 'serves', handlers: ['runc'] }),
  restart: async () => {
    const dropIn = await readFile(join(root, 'opt/kata/containerd/config.d/kata-deploy.toml'), 'utf8').catch(
      () => '',
    );
    served = new Set([...dropIn.matchAll(/runtimes\.([a-z0-9-]+)\]/g)].map((m) => m[1]!));
    calls.push('restart');
  },
  verify: async (handlers, expect) => {
    calls.push(`verify ${expect} ${handlers.join(',')}`);
    return judgeRestart({
      expect,
      handlers,
      criBefore: { state: 'serves', handlers: ['runc'] },
      containerd: { state: 'answers', version: '2.1.9' },
      cri: { state: 'serves', handlers: [...served] },
      dump: { state: 'not-applicable', reason: 'no containerd here' },
    });
  },
});

function run(action: 'install' | 'cleanup', env: Record<string, string>) {
  const settings = loadSettings({
    env: { NODE_NAME: 'n', CONTAINER_RUNTIME_VERSION: 'containerd://2.1.9', ...env },
    flags: {
      hostRoot: root,
      artifactsDir: payload,
      runtime: 'containerd',
      serviceManager: 'process',
      customConfigsDir: join(work, 'custom-configs'),
    },
    arch: 'x86_64',
  });
  return runLifecycle(action, {
    settings,
    host: createHost({ root, serviceManager: services }),
    log: silentLogger,
    verifier,
  });
}

async function tree(rel = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(join(root, rel))).sort()) {
    const r = rel === '' ? name : `${rel}/${name}`;
    const st = await lstat(join(root, r));
    if (st.isDirectory()) Object.assign(out, { [r]: 'dir' }, await tree(r));
    else if (st.isSymbolicLink()) out[r] = `link ${await readlink(join(root, r))}`;
    else
      out[r] = createHash('sha256')
        .update(await readFile(join(root, r)))
        .digest('hex');
  }
  return out;
}

const ALL = {
  SHIMS_X86_64: 'qemu clh',
  DEBUG: 'true',
  DEVKIT: 'true',
  CUSTOM_RUNTIMES_ENABLED: 'true',
};

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'kd-redeploy-'));
  payload = join(work, 'payload');
  await makeComponentPayload({ dir: payload, devkit: true });
  await mkdir(join(work, 'custom-configs'));
  await writeFile(join(work, 'custom-configs/custom-runtimes.list'), 'kata-small:qemu\nkata-fast:clh\n');
  await writeFile(
    join(work, 'custom-configs/dropin-kata-small.toml'),
    '[hypervisor.qemu]\ndefault_memory = 256\n',
  );
  await writeFile(join(work, 'user.toml'), 'version = 3\n\n[debug]\n  format = "json"\n');
});
after(async () => rm(work, { recursive: true, force: true }));
beforeEach(async () => {
  await writeFile(join(work, 'custom-configs/dropin-qemu.toml'), '[hypervisor.qemu]\ndefault_vcpus = 2\n');
  root = join(work, `root-${Math.random().toString(16).slice(2)}`);
  await mkdir(join(root, 'etc/containerd'), { recursive: true });
  await writeFile(join(root, 'etc/containerd/config.toml'), 'version = 3\n');
  calls = [];
  served = new Set(['runc']);
});

describe('custom runtimes, devkit, shim drop-ins and the operator’s containerd drop-in', () => {
  it('installs each where upstream puts it', async () => {
    await run('install', { ...ALL, CONTAINERD_USER_DROP_IN_SOURCE_FILE: join(work, 'user.toml') });
    const t = await tree();
    for (const f of [
      `${K}/custom-runtimes/kata-qemu-debug/config.d/20-debug.toml`,
      `${K}/custom-runtimes/kata-qemu-devkit/config.d/20-debug.toml`,
      `${K}/custom-runtimes/kata-qemu-devkit/config.d/25-devkit.toml`,
      `${K}/custom-runtimes/kata-small/configuration-qemu.toml`,
      `${K}/custom-runtimes/kata-small/config.d/50-overrides.toml`,
      `${K}/runtimes/qemu/config.d/50-user-overrides.toml`,
      'opt/kata/share/kata-containers/kata-containers-devkit-extension.img',
      'opt/kata/containerd/config.d/zz-kata-deploy-user.toml',
    ])
      assert.ok(t[f], `${f} installed`);
    assert.equal(
      t[`${K}/custom-runtimes/kata-fast/config.d/50-overrides.toml`],
      undefined,
      'no drop-in for it',
    );
    const devkit = await readFile(
      join(root, K, 'custom-runtimes/kata-qemu-devkit/config.d/25-devkit.toml'),
      'utf8',
    );
    assert.match(
      devkit,
      /name = "devkit"\npath = "\/opt\/kata\/share\/kata-containers\/kata-containers-devkit-extension\.img"\nverity_params = "root_hash=abc123,/,
    );
    const dropIn = await readFile(join(root, 'opt/kata/containerd/config.d/kata-deploy.toml'), 'utf8');
    assert.match(dropIn, /\[debug\]\nlevel = "debug"/);
    assert.match(
      dropIn,
      /runtimes\.kata-small\.options\]\nConfigPath = "\/opt\/kata\/share\/defaults\/kata-containers\/custom-runtimes\/kata-small\/configuration-qemu\.toml"/,
    );
    assert.deepEqual(
      parseToml(await readFile(join(root, 'etc/containerd/config.toml'), 'utf8'), 'config.toml')['imports'],
      [
        '/opt/kata/containerd/config.d/kata-deploy.toml',
        '/opt/kata/containerd/config.d/zz-kata-deploy-user.toml',
      ],
      "the operator's drop-in is imported after kata-deploy's",
    );
    assert.match(
      await readFile(join(root, 'opt/kata/containerd/config.d/zz-kata-deploy-user.toml'), 'utf8'),
      /^# Copied by kata-deploy from .*user\.toml.*\n.*\nversion = 3\n\n\[debug\]\n {2}format = "json"\n$/,
    );
  });

  it('a redeploy without them removes every one in the same run, and checks the dropped handlers gone', async () => {
    const before = await tree();
    await run('install', { ...ALL, CONTAINERD_USER_DROP_IN_SOURCE_FILE: join(work, 'user.toml') });
    calls = [];
    // The operator took their drop-in for qemu out of the ConfigMap too.
    await rm(join(work, 'custom-configs/dropin-qemu.toml'));
    const r = await run('install', { SHIMS_X86_64: 'qemu' });
    const dropped =
      'kata-qemu-debug,kata-qemu-devkit,kata-clh,kata-clh-debug,kata-clh-devkit,kata-small,kata-fast';
    assert.deepEqual(calls, ['restart', 'verify present kata-qemu', `verify absent ${dropped}`]);
    assert.equal(r.verification?.verdict, 'positive');
    assert.deepEqual(
      r.verifications?.map((v) => [v.expect, v.verdict]),
      [
        ['present', 'positive'],
        ['absent', 'positive'],
      ],
    );
    const t = await tree();
    const left = Object.keys(t).filter((p) =>
      /custom-runtimes|runtimes\/clh|50-|devkit|kata-ctl|zz-kata-deploy-user/.test(p),
    );
    assert.deepEqual(left, []);
    const dropIn = await readFile(join(root, 'opt/kata/containerd/config.d/kata-deploy.toml'), 'utf8');
    assert.doesNotMatch(dropIn, /debug/);
    assert.deepEqual(
      parseToml(await readFile(join(root, 'etc/containerd/config.toml'), 'utf8'), 'config.toml')['imports'],
      ['/opt/kata/containerd/config.d/kata-deploy.toml'],
    );
    const state = JSON.parse(await readFile(join(root, 'var/lib/kata-deploy/install.json'), 'utf8')) as {
      handlers: string[];
    };
    assert.deepEqual(state.handlers, ['kata-qemu']);
    // The same as a fresh install of the new settings, and cleanup gives the node back.
    const redeployed = await tree();
    await run('cleanup', { SHIMS_X86_64: 'qemu' });
    assert.deepEqual(await tree(), before);
    await run('install', { SHIMS_X86_64: 'qemu' });
    assert.deepEqual(await tree(), redeployed);
  });

  it('a killed redeploy still checks the dropped handlers gone when it is run again', async () => {
    await run('install', { ...ALL });
    const settingsEnv = { SHIMS_X86_64: 'qemu' };
    // Apply the plan up to its state write, as a run killed right after it would leave it.
    const plan = await run('install', { ...settingsEnv }).catch((e: unknown) => e);
    assert.ok(!(plan instanceof Error), String(plan));
    const state = JSON.parse(await readFile(join(root, 'var/lib/kata-deploy/install.json'), 'utf8')) as {
      handlers: string[];
      phase: string;
    };
    assert.equal(state.phase, 'installed');
    assert.deepEqual(state.handlers, ['kata-qemu']);
  });
});

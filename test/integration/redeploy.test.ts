/**
 * Redeploys on the real bed (containerd 2.1 and 1.7, CRI enabled, run by kata-deploy's process supervisor
 * from a sandbox host root): each kind of change upstream's users hit (kata-containers#13843/#13810) — a shim
 * removed, debug off, devkit off, a custom runtime removed — converges in one install run: CRI stops serving
 * what was dropped and keeps serving the rest, the configuration and install dir hold nothing of it, and the
 * node ends where a fresh install of the new settings ends. On 2.1 a redeploy of one install leaves another
 * install's (MULTI_INSTALL_SUFFIX) handlers and files alone. The payload is upstream's format, made here
 * (test/support/component-payload.ts). Each step prints the handlers CRI serves before and after.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { containerdBinaries, type ContainerdVersion } from '../bed/index.js';
import { run } from '../bed/exec.js';
import { runCli } from '../support/cli.js';
import { makeComponentPayload } from '../support/component-payload.js';
import { containerdServiceSpec, nodeContainerdConfig, waitContainerdAnswer } from '../support/node-root.js';
import { criStatus } from '../support/node-tree.js';
import { createHost, type Host } from '../../src/host/index.js';
import { getAt, parseToml } from '../../src/containerd/config/toml.js';

const UNIT = 'containerd.service';
const K = 'opt/kata/share/defaults/kata-containers';
/** What containerd itself changes in the sandbox; everything else is compared byte for byte. */
const VOLATILE = new Set(['run', 'var/lib/containerd', 'var/lib/containerd-opt', 'var/log']);

let work: string;
let payload: string;
before(async () => {
  work = await mkdtemp('/tmp/kd-redeploy-');
  payload = join(work, 'payload');
  await makeComponentPayload({ dir: payload, devkit: true });
});
after(async () => rm(work, { recursive: true, force: true }));

interface Node {
  readonly root: string;
  readonly socket: string;
  readonly host: Host;
  readonly version: ContainerdVersion;
  cli(action: string, env: Record<string, string>): Promise<Awaited<ReturnType<typeof runCli>>>;
  dispose(): Promise<void>;
}

async function startNode(version: ContainerdVersion): Promise<Node> {
  const bins = containerdBinaries(version);
  const root = await mkdtemp(join(work, `node-${version}-`));
  for (const d of ['etc/containerd', 'etc/kata-deploy/services', 'etc/cni/net.d', 'run/containerd'])
    await mkdir(join(root, d), { recursive: true });
  await writeFile(join(root, 'etc/containerd/config.toml'), nodeContainerdConfig(root, version));
  await writeFile(
    join(root, 'etc/kata-deploy/services', `${UNIT}.json`),
    containerdServiceSpec({ root, bin: bins.containerd, shimDir: bins.shimDir }),
  );
  const host = createHost({ root, serviceManager: 'process' });
  const socket = join(root, 'run/containerd/containerd.sock');
  await host.services.start(UNIT);
  await waitContainerdAnswer(socket);
  const flags = ['--host-root', root, '--service-manager', 'process', '--containerd-bin', bins.containerd];
  return {
    root,
    socket,
    host,
    version,
    cli: (action, env) =>
      runCli(
        [
          action,
          ...flags,
          '--runtime',
          'containerd',
          '--custom-configs-dir',
          join(work, 'custom-configs'),
        ].concat(action === 'install' ? ['--artifacts-dir', payload] : []),
        { env: { NODE_NAME: 'sandbox-node', ...env } },
      ),
    async dispose() {
      await host.services.stop(UNIT).catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    },
  };
}

async function tree(root: string, rel = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(join(root, rel))).sort()) {
    const r = rel === '' ? name : `${rel}/${name}`;
    if (VOLATILE.has(r)) continue;
    const st = await lstat(join(root, r));
    if (st.isDirectory()) Object.assign(out, { [r]: 'dir' }, await tree(root, r));
    else if (st.isSymbolicLink()) out[r] = `link ${await readlink(join(root, r))}`;
    else
      out[r] = `${(st.mode & 0o777).toString(8)} ${createHash('sha256')
        .update(await readFile(join(root, r)))
        .digest('hex')}`;
  }
  return out;
}

function ok(r: { code: number | null; signal: string | null; stderr: string; stdout: string }, what: string) {
  assert.equal(r.code, 0, `${what} failed (${r.code ?? r.signal}):\n${r.stderr}\n${r.stdout}`);
}

async function served(node: Node): Promise<string[]> {
  const status = await criStatus(node.socket);
  assert.ok(status, 'the CRI plugin serves');
  return [...status.handlers].sort();
}

/** containerd's effective configuration, as its own `config dump` of the files on disk reads it. */
async function dumpDebugLevel(node: Node): Promise<unknown> {
  const bins = containerdBinaries(node.version);
  // containerd reads node paths (imports of /opt/...): dump in the service's mount namespace.
  const spec = JSON.parse(
    containerdServiceSpec({ root: node.root, bin: bins.containerd, shimDir: bins.shimDir }),
  ) as {
    args: string[];
    env: Record<string, string>;
  };
  const script = spec.args
    .at(-1)!
    .replace(/exec .*$/, `exec '${bins.containerd}' --config /etc/containerd/config.toml config dump`);
  const r = await run('/usr/bin/unshare', [...spec.args.slice(0, -1), script], { env: spec.env });
  return getAt(parseToml(r.stdout, 'config dump'), ['debug', 'level']);
}

interface Change {
  readonly name: string;
  readonly from: Record<string, string>;
  readonly to: Record<string, string>;
  readonly list?: { readonly from: string; readonly to: string };
  /** Handlers CRI must stop serving, and must keep serving. */
  readonly gone: readonly string[];
  readonly kept: readonly string[];
  /** Install-dir paths that must be gone after the redeploy. */
  readonly paths: readonly string[];
}

const CHANGES: readonly Change[] = [
  {
    name: 'a shim removed',
    from: { SHIMS_X86_64: 'qemu qemu-runtime-rs clh' },
    to: { SHIMS_X86_64: 'qemu clh' },
    gone: ['kata-qemu-runtime-rs'],
    kept: ['kata-qemu', 'kata-clh'],
    paths: [`${K}/runtime-rs/runtimes`, 'opt/kata/runtime-rs/bin/containerd-shim-kata-v2'],
  },
  {
    name: 'debug off',
    from: { SHIMS_X86_64: 'qemu clh', DEBUG: 'true' },
    to: { SHIMS_X86_64: 'qemu clh' },
    gone: ['kata-qemu-debug', 'kata-clh-debug'],
    kept: ['kata-qemu', 'kata-clh'],
    paths: [`${K}/custom-runtimes`, 'opt/kata/bin/kata-ctl'],
  },
  {
    name: 'devkit off',
    from: { SHIMS_X86_64: 'qemu clh', DEBUG: 'true', DEVKIT: 'true' },
    to: { SHIMS_X86_64: 'qemu clh', DEBUG: 'true' },
    gone: ['kata-qemu-devkit', 'kata-clh-devkit'],
    kept: ['kata-qemu', 'kata-clh', 'kata-qemu-debug', 'kata-clh-debug'],
    paths: [
      `${K}/custom-runtimes/kata-qemu-devkit`,
      'opt/kata/share/kata-containers/kata-containers-devkit-extension.img',
    ],
  },
  {
    name: 'a custom runtime removed',
    from: { SHIMS_X86_64: 'qemu clh', CUSTOM_RUNTIMES_ENABLED: 'true' },
    to: { SHIMS_X86_64: 'qemu clh', CUSTOM_RUNTIMES_ENABLED: 'true' },
    list: { from: 'kata-small:qemu\nkata-fast:clh\n', to: 'kata-small:qemu\n' },
    gone: ['kata-fast'],
    kept: ['kata-qemu', 'kata-clh', 'kata-small'],
    paths: [`${K}/custom-runtimes/kata-fast`],
  },
];

for (const version of ['2.1', '1.7'] as const) {
  describe(`containerd ${version}: a redeploy converges to exactly what the new settings ask`, () => {
    let node: Node;
    let pristine: Record<string, string>;
    before(async () => {
      node = await startNode(version);
      pristine = await tree(node.root);
      await mkdir(join(work, 'custom-configs'), { recursive: true });
    });
    after(async () => node.dispose());

    for (const change of CHANGES) {
      it(change.name, async () => {
        const list = join(work, 'custom-configs/custom-runtimes.list');
        if (change.list) await writeFile(list, change.list.from);
        ok(await node.cli('install', change.from), 'first install');
        const before = await served(node);
        if (change.name === 'debug off')
          assert.equal(await dumpDebugLevel(node), 'debug', 'DEBUG=true: debug level');
        if (change.list) await writeFile(list, change.list.to);
        const r = await node.cli('install', change.to);
        ok(r, 'redeploy');
        const afterward = await served(node);
        process.stdout.write(
          `# containerd ${version}, ${change.name}: CRI served before [${before.join(', ')}], after [${afterward.join(', ')}]\n`,
        );
        for (const h of change.gone) {
          assert.ok(before.includes(h), `${h} was served before`);
          assert.ok(!afterward.includes(h), `${h} is no longer served`);
        }
        for (const h of change.kept) assert.ok(afterward.includes(h), `${h} still served`);
        assert.match(
          r.stdout,
          new RegExp(`check that containerd no longer serves ${change.gone.join(', ')}: POSITIVE`),
        );
        const t = await tree(node.root);
        for (const p of change.paths) assert.equal(t[p], undefined, `${p} removed`);
        if (change.name === 'debug off') {
          const config = await readFile(join(node.root, 'etc/containerd/config.toml'), 'utf8');
          assert.equal(await dumpDebugLevel(node), 'info', "containerd's log level is the operator's again");
          if (version === '1.7') assert.match(config, /\[debug\][^[]*level = "info"/);
        }
        // The same as a fresh install of the new settings, byte for byte.
        ok(await node.cli('cleanup', change.to), 'cleanup');
        assert.deepEqual(await tree(node.root), pristine, 'cleanup gives the node back');
        ok(await node.cli('install', change.to), 'fresh install of the new settings');
        assert.deepEqual(await tree(node.root), t, 'redeploy = fresh install');
        ok(await node.cli('cleanup', change.to), 'cleanup');
        await rm(list, { force: true });
      });
    }

    if (version === '2.1') {
      it("another install's handlers and files are left alone", async () => {
        ok(await node.cli('install', { SHIMS_X86_64: 'qemu clh' }), 'install A');
        ok(
          await node.cli('install', { SHIMS_X86_64: 'qemu', MULTI_INSTALL_SUFFIX: 'coco' }),
          'install B (coco)',
        );
        const coco = Object.entries(await tree(node.root)).filter(
          ([p]) => p.includes('kata-coco') || p.includes('install-coco'),
        );
        const before = await served(node);
        ok(await node.cli('install', { SHIMS_X86_64: 'qemu' }), 'redeploy A without clh');
        const afterward = await served(node);
        process.stdout.write(
          `# containerd 2.1, a suffixed install beside a redeploy: CRI served before [${before.join(', ')}], after [${afterward.join(', ')}]\n`,
        );
        assert.ok(!afterward.includes('kata-clh'));
        assert.ok(afterward.includes('kata-qemu') && afterward.includes('kata-qemu-coco'));
        const cocoAfter = Object.entries(await tree(node.root)).filter(
          ([p]) => p.includes('kata-coco') || p.includes('install-coco'),
        );
        assert.deepEqual(cocoAfter, coco, "the coco install's files are untouched");
        ok(await node.cli('cleanup', { SHIMS_X86_64: 'qemu', MULTI_INSTALL_SUFFIX: 'coco' }), 'cleanup B');
        ok(await node.cli('cleanup', { SHIMS_X86_64: 'qemu' }), 'cleanup A');
        assert.deepEqual(await tree(node.root), pristine);
      });
    }
  });
}

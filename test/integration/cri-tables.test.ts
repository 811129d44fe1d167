/**
 * Configurations that would break CRI on containerd 1.x, on the real bed.
 *
 * First the fact kata-deploy encodes (src/containerd/config/cri-tables.ts), checked against the real binaries:
 * containerd 1.6 and 1.7 let an imported file's CRI table replace the main file's whole table, 2.1 merges.
 * Then the CLI: a k3s-shaped node on containerd 1.7 (rendered `config.toml` version 2 importing
 * `config.toml.d/*.toml`) and a vanilla 1.7 node whose operator drop-in holds the CRI table are refused before
 * anything is written (exit 2, the file, the reason, the remedy), CRI still serving; and the drop-in kata-deploy
 * would have written on the k3s node makes real containerd 1.7 drop its CRI plugin, which is why it refuses.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { containerdBinaries, type ContainerdVersion } from '../bed/index.js';
import { run } from '../bed/exec.js';
import { runCli } from '../support/cli.js';
import { containerdServiceSpec, nodeContainerdConfig, waitContainerdAnswer } from '../support/node-root.js';
import { createHost, type Host } from '../../src/host/index.js';
import { ContainerdClient, UnimplementedError } from '../../src/containerd/api/index.js';
import { kataConfigEdit, parseToml, getAt, renderDropIn } from '../../src/containerd/config/index.js';
import { deriveNames } from '../../src/names/index.js';
import { loadSettings } from '../../src/settings/index.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PAYLOAD = join(REPO, 'test/fixtures/payload');
const ENV = { NODE_NAME: 'sandbox-node', SHIMS_X86_64: 'qemu clh' };
const K3S = '/var/lib/rancher/k3s/agent/etc/containerd';

const roots: { root: string; host: Host; unit: string }[] = [];
after(async () => {
  for (const { root, host, unit } of roots) {
    await host.services.stop(unit).catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  }
});

/** Every file under the root but containerd's own state, with a hash: what kata-deploy must not touch. */
async function tree(root: string, skip: readonly string[], rel = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(join(root, rel))).sort()) {
    const r = rel === '' ? name : `${rel}/${name}`;
    if (skip.includes(r)) continue;
    const p = join(root, r);
    const st = await lstat(p);
    if (st.isDirectory()) Object.assign(out, { [r]: 'dir' }, await tree(root, skip, r));
    else if (st.isSymbolicLink()) out[r] = `link ${await readlink(p)}`;
    else
      out[r] = createHash('sha256')
        .update(await readFile(p))
        .digest('hex');
  }
  return out;
}

async function criServes(socket: string): Promise<string[] | undefined> {
  const client = ContainerdClient.open({ socket, timeoutMs: 10_000 });
  try {
    return (await client.cri.status()).handlers;
  } catch (error) {
    if (error instanceof UnimplementedError) return undefined;
    throw error;
  } finally {
    client.close();
  }
}

describe('the fact: containerd 1.x lets an imported file replace a whole plugin table, 2.x merges', () => {
  for (const version of ['1.6', '1.7', '2.1'] as const satisfies readonly ContainerdVersion[]) {
    it(`containerd ${version}: config dump of a main CRI table plus a drop-in with a kata runtime`, async () => {
      const dir = await mkdtemp('/tmp/kd-crimerge-');
      try {
        const cri = version === '2.1' ? 'io.containerd.cri.v1.runtime' : 'io.containerd.grpc.v1.cri';
        const v = version === '2.1' ? 3 : 2;
        await mkdir(join(dir, 'd'));
        await writeFile(
          join(dir, 'config.toml'),
          `version = ${v}\nimports = ["${dir}/d/*.toml"]\n\n[plugins."${cri}".containerd.runtimes.operator]\n  runtime_type = "io.containerd.runc.v2"\n`,
        );
        await writeFile(
          join(dir, 'd/kata.toml'),
          `version = ${v}\n\n[plugins."${cri}".containerd.runtimes.kata-qemu]\n  runtime_type = "io.containerd.kata-qemu.v2"\n`,
        );
        const dump = await run(containerdBinaries(version).containerd, [
          '--config',
          join(dir, 'config.toml'),
          'config',
          'dump',
        ]);
        const runtimes = getAt(parseToml(dump.stdout, 'dump'), ['plugins', cri, 'containerd', 'runtimes']);
        const names = Object.keys((runtimes as object | undefined) ?? {});
        assert.ok(names.includes('kata-qemu'), names.join(','));
        // kata-deploy refuses on exactly the versions where the main file's table is lost.
        assert.equal(!names.includes('operator'), version !== '2.1', `${version}: ${names.join(',')}`);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});

/** The configuration k3s renders (its template's shape), with every path inside the sandbox root. */
function k3sRenderedConfig(root: string): string {
  return `# File generated by k3s. DO NOT EDIT. Use config.toml.tmpl instead.
version = 2
root = "${root}/var/lib/rancher/k3s/agent/containerd"
state = "${root}/run/k3s/containerd"
disabled_plugins = ["io.containerd.nri.v1.nri"]
imports = ["${root}${K3S}/config.toml.d/*.toml"]

[grpc]
  address = "${root}/run/k3s/containerd/containerd.sock"

[ttrpc]
  address = "${root}/run/k3s/containerd/containerd.sock.ttrpc"

[debug]
  address = "${root}/run/k3s/containerd/debug.sock"

[plugins."io.containerd.internal.v1.opt"]
  path = "${root}/var/lib/rancher/k3s/agent/containerd-opt"

[plugins."io.containerd.grpc.v1.cri"]
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_unprivileged_ports = true
  enable_unprivileged_icmp = true
  sandbox_image = "rancher/mirrored-pause:3.6"

[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "overlayfs"
  disable_snapshot_annotations = true

[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = "${root}/var/lib/rancher/k3s/data/current/bin"
  conf_dir = "${root}/var/lib/rancher/k3s/agent/etc/cni/net.d"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = false
`;
}

describe('containerd 1.7: configurations that would break CRI are refused before anything is written', () => {
  it('k3s layout (config.toml.d, version 2): exit 2, the file, the reason and the remedy; CRI keeps serving', async () => {
    const bins = containerdBinaries('1.7');
    const root = await mkdtemp('/tmp/kd-k3s17-');
    const host = createHost({ root, serviceManager: 'process' });
    roots.push({ root, host, unit: 'k3s.service' });
    for (const d of [`${K3S}/config.toml.d`, 'etc/kata-deploy/services', 'run/k3s/containerd', 'var/log'])
      await mkdir(join(root, d), { recursive: true });
    const configPath = join(root, K3S, 'config.toml');
    await writeFile(configPath, k3sRenderedConfig(root));
    await writeFile(
      join(root, 'etc/kata-deploy/services/k3s.service.json'),
      JSON.stringify({
        command: bins.containerd,
        args: ['--config', configPath],
        env: { PATH: `${bins.shimDir}:/usr/sbin:/usr/bin:/sbin:/bin` },
        logFile: '/var/log/k3s.log',
      }),
    );
    const socket = join(root, 'run/k3s/containerd/containerd.sock');
    await host.services.start('k3s.service');
    await waitContainerdAnswer(socket);
    assert.deepEqual(await criServes(socket), ['runc'], 'CRI serves before');
    const skip = [
      'run',
      'var/log',
      'var/lib/rancher/k3s/agent/containerd',
      'var/lib/rancher/k3s/agent/containerd-opt',
    ];
    const before = await tree(root, skip);

    const flags = ['--host-root', root, '--service-manager', 'process', '--runtime', 'k3s'];
    const cli = (extra: string[]) =>
      runCli(
        ['install', ...flags, '--containerd-bin', bins.containerd, '--artifacts-dir', PAYLOAD, ...extra],
        {
          env: ENV,
        },
      );
    const r = await cli(['--json']);
    process.stdout.write(
      `# k3s on containerd 1.7, install --json: exit ${r.code}\n# ${r.stdout.replaceAll('\n', '\n# ')}\n`,
    );
    assert.equal(r.code, 2, r.stderr);
    const error = (
      JSON.parse(r.stdout) as { error: { kind: string; message: string; input: string; hint: string } }
    ).error;
    assert.equal(error.kind, 'UsageError');
    assert.equal(error.input, `${K3S}/config.toml`);
    assert.match(
      error.message,
      /refusing to write the drop-in \/var\/lib\/rancher\/k3s\/agent\/etc\/containerd\/config\.toml\.d\/kata-deploy\.toml on containerd 1\.7\.24: .*wipe the \[plugins\."io\.containerd\.grpc\.v1\.cri"\] table of \/var\/lib\/rancher\/k3s\/agent\/etc\/containerd\/config\.toml and the CRI plugin would fail to load/,
    );
    assert.match(error.hint, /config\.toml\.tmpl route.*containerd 2\.x.*nothing was changed on the node/);
    const dry = await cli(['--dry-run']);
    assert.equal(dry.code, 2, 'the dry run is refused too');
    assert.deepEqual(await tree(root, skip), before, 'nothing written');
    assert.deepEqual(await criServes(socket), ['runc'], 'CRI still serves');

    // Why: the drop-in kata-deploy would have written makes this containerd drop its CRI plugin.
    const settings = loadSettings({ env: ENV, arch: 'x86_64' });
    const names = deriveNames(settings, 'k3s');
    const dropIn = renderDropIn(
      2,
      kataConfigEdit({ configVersion: 2, handlers: names.handlers, debug: false }),
    );
    await writeFile(join(root, K3S, 'config.toml.d/kata-deploy.toml'), dropIn);
    await host.services.restart('k3s.service');
    await waitContainerdAnswer(socket);
    assert.equal(await criServes(socket), undefined, 'with that drop-in the CRI plugin does not load');
    const log = await readFile(join(root, 'var/log/k3s.log'), 'utf8');
    const line = log.split('\n').find((l) => l.includes('failed to load plugin io.containerd.grpc.v1.cri'));
    process.stdout.write(`# with kata's drop-in, containerd 1.7 logs: ${line}\n`);
    assert.match(line ?? '', /no corresponding runtime configured .*default_runtime_name = \\"runc\\"/);
  });

  it('an operator drop-in holding the CRI table (whole-file edit on 1.x): exit 2 instead of exit 3 on every run', async () => {
    const bins = containerdBinaries('1.7');
    const root = await mkdtemp('/tmp/kd-dropin17-');
    const host = createHost({ root, serviceManager: 'process' });
    roots.push({ root, host, unit: 'containerd.service' });
    for (const d of ['etc/containerd/conf.d', 'etc/kata-deploy/services', 'etc/cni/net.d', 'run/containerd'])
      await mkdir(join(root, d), { recursive: true });
    await writeFile(
      join(root, 'etc/containerd/config.toml'),
      nodeContainerdConfig(root, '1.7').replace(
        'version = 2\n',
        'version = 2\nimports = ["/etc/containerd/conf.d/*.toml"]\n',
      ),
    );
    await writeFile(
      join(root, 'etc/containerd/conf.d/50-operator.toml'),
      'version = 2\n\n[plugins."io.containerd.grpc.v1.cri".containerd]\n  snapshotter = "native"\n',
    );
    await writeFile(
      join(root, 'etc/kata-deploy/services/containerd.service.json'),
      containerdServiceSpec({ root, bin: bins.containerd, shimDir: bins.shimDir }),
    );
    const socket = join(root, 'run/containerd/containerd.sock');
    await host.services.start('containerd.service');
    await waitContainerdAnswer(socket);
    assert.ok(await criServes(socket), 'CRI serves before');
    const skip = ['run', 'var'];
    const before = await tree(root, skip);

    const r = await runCli(
      [
        'install',
        '--host-root',
        root,
        '--service-manager',
        'process',
        '--runtime',
        'containerd',
        '--containerd-bin',
        bins.containerd,
        '--artifacts-dir',
        PAYLOAD,
        '--json',
      ],
      { env: ENV },
    );
    process.stdout.write(
      `# vanilla 1.7 with an operator CRI drop-in, install --json: exit ${r.code}\n# ${r.stdout.replaceAll('\n', '\n# ')}\n`,
    );
    assert.equal(r.code, 2, r.stderr);
    const error = (JSON.parse(r.stdout) as { error: { message: string; input: string; hint: string } }).error;
    assert.equal(error.input, '/etc/containerd/conf.d/50-operator.toml');
    assert.match(
      error.message,
      /defines \[plugins\."io\.containerd\.grpc\.v1\.cri"\]: containerd 1\.7\.24 lets an imported file replace that whole table/,
    );
    assert.match(
      error.hint,
      /move the CRI settings of \/etc\/containerd\/conf\.d\/50-operator\.toml into \/etc\/containerd\/config\.toml/,
    );
    assert.deepEqual(await tree(root, skip), before, 'nothing written');
  });
});

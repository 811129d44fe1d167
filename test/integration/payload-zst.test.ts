/**
 * An install from upstream's payload format on the bed (containerd 2.1, CRI enabled): shim-components.json and
 * tarballs/kata-static-<component>.tar.zst made by the test, with a guest image large enough for the
 * decompression to count. Prints the payload's sizes and how long install took; the files installed are the
 * payload's, the ones of shims not enabled are not extracted, and CRI serves the handlers.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { containerdBinaries } from '../bed/index.js';
import { runCli } from '../support/cli.js';
import { FIXTURE_PAYLOAD, makeComponentPayload } from '../support/component-payload.js';
import { containerdServiceSpec, nodeContainerdConfig, waitContainerdAnswer } from '../support/node-root.js';
import { criStatus } from '../support/node-tree.js';
import { createHost, type Host } from '../../src/host/index.js';

const UNIT = 'containerd.service';
const IMAGE_MIB = Number(process.env['KATA_DEPLOY_TEST_PAYLOAD_MIB'] ?? '128');
let work: string | undefined;
let host: Host | undefined;
after(async () => {
  await host?.services.stop(UNIT).catch(() => undefined);
  if (work) await rm(work, { recursive: true, force: true });
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('containerd 2.1: install from a .tar.zst payload', () => {
  it('extracts the enabled shims’ components, checked, and CRI serves the handlers', async () => {
    work = await mkdtemp('/tmp/kd-zst-');
    const payload = join(work, 'payload');
    const made = await makeComponentPayload({ dir: payload, imageBytes: IMAGE_MIB * 1024 * 1024 });
    const root = join(work, 'root');
    const bins = containerdBinaries('2.1');
    for (const d of ['etc/containerd', 'etc/kata-deploy/services', 'etc/cni/net.d', 'run/containerd'])
      await mkdir(join(root, d), { recursive: true });
    await writeFile(join(root, 'etc/containerd/config.toml'), nodeContainerdConfig(root, '2.1'));
    await writeFile(
      join(root, 'etc/kata-deploy/services', `${UNIT}.json`),
      containerdServiceSpec({ root, bin: bins.containerd, shimDir: bins.shimDir }),
    );
    host = createHost({ root, serviceManager: 'process' });
    await host.services.start(UNIT);
    await waitContainerdAnswer(join(root, 'run/containerd/containerd.sock'));
    const cli = () =>
      runCli(
        ['install', '--host-root', root, '--service-manager', 'process', '--runtime', 'containerd'].concat([
          '--containerd-bin',
          bins.containerd,
          '--artifacts-dir',
          payload,
        ]),
        { env: { NODE_NAME: 'sandbox-node', SHIMS_X86_64: 'qemu qemu-runtime-rs clh' } },
      );

    const started = Date.now();
    const r = await cli();
    const took = Date.now() - started;
    assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
    const again = Date.now();
    const second = await cli();
    const tookAgain = Date.now() - again;
    assert.equal(second.code, 0);
    assert.match(second.stdout, /applied 1 steps:/);
    const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
    const extracts = (r.stdout.match(/install \d+ file\(s\) from \S+kata-static-/g) ?? []).length;
    process.stdout.write(
      `# .tar.zst payload: ${made.components.size} components, ${mib(made.bytes.compressed)} MiB compressed, ${mib(made.bytes.uncompressed)} MiB as tar; ` +
        `install (${extracts} tarballs extracted, containerd restarted, CRI checked) took ${took} ms; ` +
        `the second install (nothing to do: tarballs indexed again, the check) took ${tookAgain} ms\n`,
    );
    const status = await criStatus(join(root, 'run/containerd/containerd.sock'));
    assert.deepEqual(status?.handlers.filter((h) => h.startsWith('kata-')).sort(), [
      'kata-clh',
      'kata-qemu',
      'kata-qemu-runtime-rs',
    ]);
    const installed = (rel: string) => readFile(join(root, 'opt/kata', rel));
    assert.equal(
      sha(await installed('bin/containerd-shim-kata-v2')),
      sha(await readFile(join(FIXTURE_PAYLOAD, 'opt/kata/bin/containerd-shim-kata-v2'))),
    );
    assert.equal(
      (await installed('share/kata-containers/kata-containers.img')).length,
      IMAGE_MIB * 1024 * 1024,
    );
    await assert.rejects(
      installed('bin/firecracker'),
      /ENOENT/,
      'fc is not enabled: its component stays packed',
    );
    await assert.rejects(installed('bin/kata-ctl'), /ENOENT/, 'kata-ctl only with DEBUG');
    assert.ok((await installed('versions.yaml')).length > 0, 'versions.yaml installed');
    const cleanup = await runCli(
      [
        'cleanup',
        '--host-root',
        root,
        '--service-manager',
        'process',
        '--runtime',
        'containerd',
        '--containerd-bin',
        bins.containerd,
      ],
      { env: { NODE_NAME: 'sandbox-node', SHIMS_X86_64: 'qemu qemu-runtime-rs clh' } },
    );
    assert.equal(cleanup.code, 0, cleanup.stderr);
  });
});

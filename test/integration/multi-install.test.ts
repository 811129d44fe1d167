/**
 * Two installs on a real containerd 2.1 (the built CLI, the process supervisor, a sandbox host root): one
 * unsuffixed, one with MULTI_INSTALL_SUFFIX. Both sets of handlers are served while both are installed, and
 * cleaning them up in either order gives the tree back byte for byte, the operator's tabs and trailing blanks
 * in lines kata-deploy does not own and the directories an install created included.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, writeFile, readFile, readdir, lstat, readlink, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { containerdBinaries } from '../bed/index.js';
import { REPO_ROOT, runCli } from '../support/cli.js';
import { createHost } from '../../src/host/index.js';
import {
  containerdServiceSpec,
  criStatus,
  nodeContainerdConfig,
  waitContainerdAnswer,
} from '../support/node-root.js';

const UNIT = 'containerd.service';
const VOLATILE = new Set(['run', 'var/lib/containerd', 'var/lib/containerd-opt', 'var/log']);
const SHIMS = 'qemu clh';

let root: string | undefined;
after(async () => {
  if (root === undefined) return;
  await createHost({ root, serviceManager: 'process' })
    .services.stop(UNIT)
    .catch(() => undefined);
  await rm(root, { recursive: true, force: true });
});

async function tree(dir: string, rel = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(join(dir, rel))).sort()) {
    const r = rel === '' ? name : `${rel}/${name}`;
    if (VOLATILE.has(r)) continue;
    const st = await lstat(join(dir, r));
    if (st.isDirectory()) Object.assign(out, { [`${r}/`]: 'dir' }, await tree(dir, r));
    else if (st.isSymbolicLink()) out[r] = `link ${await readlink(join(dir, r))}`;
    else
      out[r] = createHash('sha256')
        .update(await readFile(join(dir, r)))
        .digest('hex');
  }
  return out;
}

describe('containerd 2.1: an unsuffixed and a suffixed install', () => {
  it('are both served, and cleaned up in either order give the node back byte for byte', async () => {
    const bins = containerdBinaries('2.1');
    root = await mkdtemp('/tmp/kdm-');
    for (const d of [
      'etc/containerd',
      'etc/kata-deploy/services',
      'etc/cni/net.d',
      'run/containerd',
      'var/lib/containerd',
    ]) {
      await mkdir(join(root, d), { recursive: true });
    }
    // The operator's config, with the layout the issue saw lost: a tab and trailing blanks in [grpc].
    const config = nodeContainerdConfig(root, '2.1')
      .replace('disabled_plugins', 'imports = []\ndisabled_plugins')
      .replace('[grpc]\n  address', '[grpc]\t  \n\taddress')
      .replace('containerd.sock"\n\n[ttrpc]', 'containerd.sock"   \n\n[ttrpc]');
    assert.match(config, /\[grpc\]\t {2}\n\taddress = ".*containerd\.sock" {3}\n/);
    await writeFile(join(root, 'etc/containerd/config.toml'), config);
    await writeFile(
      join(root, 'etc/kata-deploy/services', `${UNIT}.json`),
      containerdServiceSpec({ root, bin: bins.containerd, shimDir: bins.shimDir }),
    );
    const socket = join(root, 'run/containerd/containerd.sock');
    await createHost({ root, serviceManager: 'process' }).services.start(UNIT);
    await waitContainerdAnswer(socket);

    const cli = async (action: string, suffix?: string) => {
      const r = await runCli(
        [
          action,
          '--host-root',
          root!,
          '--service-manager',
          'process',
          '--containerd-bin',
          bins.containerd,
          '--runtime',
          'containerd',
          '--json',
        ].concat(action === 'install' ? ['--artifacts-dir', join(REPO_ROOT, 'test/fixtures/payload')] : []),
        {
          env: {
            NODE_NAME: 'sandbox-node',
            SHIMS_X86_64: SHIMS,
            ...(suffix ? { MULTI_INSTALL_SUFFIX: suffix } : {}),
          },
        },
      );
      assert.equal(r.code, 0, `${action} ${suffix ?? ''}: exit ${r.code}\n${r.stderr}`);
    };

    const before = await tree(root);
    for (const cleanupOrder of [
      [undefined, 'coco'],
      ['coco', undefined],
    ]) {
      await cli('install');
      await cli('install', 'coco');
      const served = (await criStatus(socket))?.handlers ?? [];
      for (const h of ['kata-qemu', 'kata-clh', 'kata-qemu-coco', 'kata-clh-coco']) {
        assert.ok(served.includes(h), `${h} served: ${served.join(', ')}`);
      }
      const installed = await readFile(join(root, 'etc/containerd/config.toml'), 'utf8');
      assert.ok(
        installed.includes('[grpc]\t  \n\taddress = '),
        'the [grpc] lines keep their bytes while installed',
      );
      for (const suffix of cleanupOrder) await cli('cleanup', suffix);
      assert.equal(
        await readFile(join(root, 'etc/containerd/config.toml'), 'utf8'),
        config,
        `cleanup ${cleanupOrder.join(' then ')}`,
      );
      assert.deepEqual(
        await tree(root),
        before,
        `cleanup ${cleanupOrder.map((s) => s ?? 'unsuffixed').join(' then ')}`,
      );
    }
  });
});

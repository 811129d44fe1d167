/**
 * Two installs on a real containerd 2.1 (the built CLI, the process supervisor, a sandbox host root): one
 * unsuffixed, one with MULTI_INSTALL_SUFFIX. Both sets of handlers are served while both are installed, and
 * installing and cleaning them up in any order gives the tree back byte for byte: the operator's tabs and
 * trailing blanks in lines kata-deploy does not own, an `imports` list the first install had to create, a
 * config file kata-deploy had to create (containerd 2.x runs on its defaults without one), the backups, the
 * marker and the directories an install created included.
 */
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, writeFile, readFile, readdir, lstat, readlink, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { containerdBinaries } from '../bed/index.js';
import { REPO_ROOT, runCli } from '../support/cli.js';
import { createHost } from '../../src/host/index.js';
import {
  containerdServiceSpec,
  namespacedServiceSpec,
  nodeContainerdConfig,
  waitContainerdAnswer,
} from '../support/node-root.js';
import { criStatus } from '../support/node-tree.js';

const UNIT = 'containerd.service';
/** containerd's own data, and (without a config file) its built-in `opt` plugin dir under the bound /opt. */
const VOLATILE = new Set([
  'run',
  'var/lib/containerd',
  'var/lib/containerd-opt',
  'var/log',
  'opt/containerd',
]);
const SHIMS = 'qemu clh';
const HANDLERS = ['kata-qemu', 'kata-clh', 'kata-qemu-coco', 'kata-clh-coco'];

type Op = 'install' | 'cleanup';
type Step = readonly [Op, string | undefined];
const A = undefined;
const B = 'coco';
const ORDERS: readonly (readonly Step[])[] = [
  [
    ['install', A],
    ['install', B],
    ['cleanup', A],
    ['cleanup', B],
  ],
  [
    ['install', A],
    ['install', B],
    ['cleanup', B],
    ['cleanup', A],
  ],
  [
    ['install', B],
    ['install', A],
    ['cleanup', A],
    ['cleanup', B],
  ],
  [
    ['install', B],
    ['install', A],
    ['cleanup', B],
    ['cleanup', A],
  ],
];

let root: string | undefined;
afterEach(async () => {
  if (root === undefined) return;
  await createHost({ root, serviceManager: 'process' })
    .services.stop(UNIT)
    .catch(() => undefined);
  await rm(root, { recursive: true, force: true });
  root = undefined;
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

/**
 * A sandbox node whose containerd 2.1 reads `config` (none: no file, containerd on its built-in defaults, its
 * root, state and socket given on its command line, and /run bound from the root so that nothing it creates
 * by default lands on the machine), started by the process supervisor.
 */
async function startNode(config: ((root: string) => string) | undefined) {
  const bins = containerdBinaries('2.1');
  const r = await mkdtemp('/tmp/kdm-');
  root = r;
  for (const d of [
    'etc/containerd',
    'etc/kata-deploy/services',
    'etc/cni/net.d',
    'run/containerd',
    'var/lib',
  ]) {
    await mkdir(join(r, d), { recursive: true });
  }
  const text = config?.(r);
  if (text !== undefined) {
    await writeFile(join(r, 'etc/containerd/config.toml'), text);
    await writeFile(
      join(r, 'etc/kata-deploy/services', `${UNIT}.json`),
      containerdServiceSpec({ root: r, bin: bins.containerd, shimDir: bins.shimDir }),
    );
  } else {
    await mkdir(join(r, 'opt'));
    await writeFile(
      join(r, 'etc/kata-deploy/services', `${UNIT}.json`),
      namespacedServiceSpec({
        root: r,
        binds: ['/opt', '/etc/containerd', '/run'],
        exec: [
          bins.containerd, // reads /etc/containerd/config.toml when there is one (a missing --config is refused)
          '--root',
          `${r}/var/lib/containerd`,
          '--state',
          `${r}/run/containerd`,
          '--address',
          `${r}/run/containerd/containerd.sock`,
        ],
        path: `${bins.shimDir}:/usr/sbin:/usr/bin:/sbin:/bin`,
        logFile: '/var/log/containerd.log',
      }),
    );
  }
  const socket = join(r, 'run/containerd/containerd.sock');
  await createHost({ root: r, serviceManager: 'process' }).services.start(UNIT);
  await waitContainerdAnswer(socket);

  const cli = async (action: Op, suffix: string | undefined) => {
    const result = await runCli(
      [
        action,
        '--host-root',
        r,
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
    assert.equal(result.code, 0, `${action} ${suffix ?? ''}: exit ${result.code}\n${result.stderr}`);
  };
  const served = async () => (await criStatus(socket).catch(() => undefined))?.handlers ?? [];
  const configText = () => readFile(join(r, 'etc/containerd/config.toml'), 'utf8').catch(() => undefined);
  return { root: r, text, cli, served, configText };
}

/** The operator's config with the layout the issue saw lost: a tab and trailing blanks in [grpc]. */
const handEdited = (root: string) => {
  const config = nodeContainerdConfig(root, '2.1')
    .replace('[grpc]\n  address', '[grpc]\t  \n\taddress')
    .replace('containerd.sock"\n\n[ttrpc]', 'containerd.sock"   \n\n[ttrpc]');
  assert.match(config, /\[grpc\]\t {2}\n\taddress = ".*containerd\.sock" {3}\n/);
  return config;
};

const LAYOUTS: Record<string, { config: ((root: string) => string) | undefined; orders: typeof ORDERS }> = {
  'an empty imports list': {
    config: (r) => handEdited(r).replace('disabled_plugins', 'imports = []\ndisabled_plugins'),
    orders: ORDERS.slice(0, 2),
  },
  'no imports line (the first install creates the list)': { config: handEdited, orders: ORDERS },
  'no config file (the first install creates it)': { config: undefined, orders: ORDERS },
};

describe('containerd 2.1: an unsuffixed and a suffixed install', () => {
  for (const [name, { config, orders }] of Object.entries(LAYOUTS)) {
    it(`${name}: both served, and every order gives the node back byte for byte`, async () => {
      const node = await startNode(config);
      const before = await tree(node.root);
      for (const order of orders) {
        const where = order.map(([op, sfx]) => `${op} ${sfx ?? 'unsuffixed'}`).join(', ');
        for (const [i, [op, suffix]] of order.entries()) {
          await node.cli(op, suffix);
          if (i === 1) {
            const served = await node.served();
            for (const h of HANDLERS)
              assert.ok(served.includes(h), `${where}: ${h} served: ${served.join(', ')}`);
            if (node.text !== undefined)
              assert.ok(
                (await node.configText())!.includes('[grpc]\t  \n\taddress = '),
                'the [grpc] lines keep their bytes while installed',
              );
          }
        }
        assert.equal(await node.configText(), node.text, where);
        assert.deepEqual(await tree(node.root), before, where);
        const left = await node.served();
        assert.ok(!left.some((h) => h.startsWith('kata-')), `${where}: still served: ${left.join(', ')}`);
      }
    });
  }
});

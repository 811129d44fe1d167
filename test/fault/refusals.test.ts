/**
 * Fault suite, refusals: bad host roots, symlinks that lead out of the root, settings that do not fit the node,
 * corrupt state. Each case runs the built CLI and checks the exit code, an error that names the input, and that
 * nothing was written: the host root (run/ included) byte for byte as before, and nothing outside it.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';
import { disposeNodes, PAYLOAD, startNode, type FaultNode } from './node.js';

let scratch: string;
before(async () => {
  scratch = await mkdtemp('/tmp/kdf-refusals-');
});
after(async () => {
  await disposeNodes();
  await rm(scratch, { recursive: true, force: true });
});

const ACTIONS = [['install'], ['cleanup'], ['reset'], ['install', '--dry-run']] as const;

describe('bad --host-root: exit 2 naming --host-root, nothing created', () => {
  const roots: [string, (dir: string) => Promise<string>][] = [
    ['""', async () => ''],
    ['a relative path', async () => 'host'],
    ['a path with ..', async (dir) => `${dir}/../${dir.split('/').at(-1)}`],
    ['a missing directory', async (dir) => join(dir, 'missing')],
    ['a file', async (dir) => (await writeFile(join(dir, 'file'), 'x'), join(dir, 'file'))],
  ];
  for (const [what, make] of roots) {
    for (const action of ACTIONS) {
      it(`${action.join(' ')} on ${what}`, async () => {
        const dir = await mkdtemp(join(scratch, 'root-'));
        const root = await make(dir);
        const before = await readdir(dir);
        const r = await runCli(
          [
            ...action,
            '--host-root',
            root,
            '--runtime',
            'containerd',
            ...(action[0] === 'install' ? ['--artifacts-dir', PAYLOAD] : []),
          ],
          { env: { NODE_NAME: 'n', CONTAINER_RUNTIME_VERSION: 'containerd://2.1.5' }, timeoutMs: 60_000 },
        );
        assert.equal(r.code, 2, `exit ${r.code}: ${r.stderr}`);
        assert.match(r.stderr, /^kata-deploy: --host-root/);
        assert.deepEqual(await readdir(dir), before, 'nothing created');
      });
    }
  }
  it('--json names the input', async () => {
    const r = await runCli(['--json', 'install', '--host-root', '', '--dry-run'], {
      env: { NODE_NAME: 'n' },
    });
    assert.equal(r.code, 2);
    assert.equal((JSON.parse(r.stdout) as { error: { input: string } }).error.input, '--host-root');
  });
});

/** A node without containerd running: every refusal here comes before anything would need it. */
async function refusedNode(): Promise<FaultNode> {
  return startNode({ version: '2.1', containerd: false });
}

async function assertRefused(
  node: FaultNode,
  action: string,
  code: number,
  message: RegExp,
  env: Record<string, string> = {},
  outside?: string,
): Promise<void> {
  const before = await node.snapshot(true);
  const outsideBefore = outside === undefined ? [] : await readdir(outside);
  const r = await node.cli(action, { env });
  assert.equal(r.code, code, `exit ${r.code}: ${r.stderr}`);
  assert.match(r.stderr, message);
  if (code !== 0) assert.match(r.stderr, /^kata-deploy: /m);
  assert.deepEqual(await node.snapshot(true), before, 'the host root is as it was, run/ included');
  if (outside !== undefined) assert.deepEqual(await readdir(outside), outsideBefore, 'nothing outside');
}

describe('symlinks that lead out of the host root: never followed out, nothing written inside or outside', () => {
  // [action, link, target, expected exit]: a write through such a link is refused (2); a read through it finds
  // what the node would find there, nothing (cleanup then has nothing to do, 0).
  const links: [string, string, (outside: string) => string, number][] = [
    ['install', 'etc/containerd', (o) => o, 2],
    ['install', 'etc/containerd', (o) => `../../../../../../../../..${o}`, 2],
    ['install', 'run', (o) => o, 2],
    ['cleanup', 'run', (o) => o, 2],
    ['reset', 'run', (o) => o, 2],
    ['install', 'run/lock', (o) => o, 2],
    ['install', 'opt', (o) => o, 2],
    ['install', 'var/lib/kata-deploy', (o) => o, 2],
    ['cleanup', 'var/lib/kata-deploy', (o) => o, 0],
    ['cleanup', 'etc/containerd', (o) => o, 0],
  ];
  for (const [action, link, target, code] of links) {
    it(`${action} with ${link} -> ${target('<outside>')}: exit ${code}`, async () => {
      const node = await refusedNode();
      const outside = await mkdtemp(join(scratch, 'outside-'));
      // What kata-deploy would act on if it followed the link: a config with its handlers, a state naming it.
      await writeFile(
        join(outside, 'config.toml'),
        'version = 3\n[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.kata-qemu]\n',
      );
      await writeFile(
        join(outside, 'install.json'),
        JSON.stringify({
          version: 1,
          installDir: '/opt/kata',
          handlers: ['kata-qemu'],
          files: {},
          createdDirs: ['/etc/containerd'],
          phase: 'installed',
        }),
      );
      const path = join(node.root, link);
      await rm(path, { recursive: true, force: true });
      await mkdir(join(path, '..'), { recursive: true });
      await symlink(target(outside), path);
      const message =
        code === 0
          ? /(?:)/
          : new RegExp(`/${link} is a symlink to .*which does not exist under the host root`);
      await assertRefused(node, action, code, message, {}, outside);
      await node.dispose();
    });
  }
  it('install with a symlink loop on the way', async () => {
    const node = await refusedNode();
    await rm(join(node.root, 'etc/containerd'), { recursive: true });
    await symlink('containerd', join(node.root, 'etc/containerd'));
    await assertRefused(node, 'install', 2, /too many levels of symlinks/);
    await node.dispose();
  });
});

describe('settings that do not fit the node: exit 2 before anything is written, the lock included', () => {
  const cases: [string, string, Record<string, string>, RegExp][] = [
    [
      'a shim the payload has no configuration for',
      'install',
      { SHIMS_X86_64: 'qemu qemu-se' },
      /has no configuration for qemu-se/,
    ],
    [
      'a machine-id mismatch',
      'install',
      { NODE_MACHINE_ID: 'b'.repeat(32) },
      /NODE_MACHINE_ID=.*does not match/,
    ],
    [
      'CRI-O',
      'install',
      { CONTAINER_RUNTIME_VERSION: 'cri-o://1.30.1' },
      /CRI-O and other runtimes are not supported/,
    ],
    [
      'CRI-O, cleanup',
      'cleanup',
      { CONTAINER_RUNTIME_VERSION: 'cri-o://1.30.1' },
      /CRI-O and other runtimes are not supported/,
    ],
    [
      'a suffix on containerd 1.7',
      'install',
      { CONTAINER_RUNTIME_VERSION: 'containerd://1.7.24', MULTI_INSTALL_SUFFIX: 'x' },
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
      /needs containerd 1\.7 or later/,
    ],
  ];
  for (const [what, action, env, message] of cases) {
    it(`${action}: ${what}`, async () => {
      const node = await refusedNode();
      await assertRefused(node, action, 2, message, env);
      await node.dispose();
    });
  }
  it('install: a file where the install dir goes', async () => {
    const node = await refusedNode();
    await writeFile(join(node.root, 'opt'), 'a file');
    await assertRefused(node, 'install', 2, /\/opt is not a directory/);
    await node.dispose();
  });
});

describe('corrupt install state: exit 1 naming the file, nothing written', () => {
  const states: [string, string][] = [
    ['not JSON', '{"version": 1, "installDir": "/opt/ka'],
    ['a wrong schema', '{"version": 2}'],
    [
      "a backup path outside kata-deploy's names",
      JSON.stringify({
        version: 1,
        installDir: '/opt/kata',
        handlers: ['kata-qemu'],
        files: {
          '/etc/containerd/config.toml': {
            origin: 'existing',
            writtenSha256: 'x',
            backupFile: '/etc/passwd',
          },
        },
        createdDirs: [],
        phase: 'installed',
      }),
    ],
  ];
  for (const [what, text] of states) {
    for (const action of ['install', 'cleanup']) {
      it(`${action} with ${what}`, async () => {
        const node = await refusedNode();
        await mkdir(join(node.root, 'var/lib/kata-deploy'), { recursive: true });
        await writeFile(join(node.root, 'var/lib/kata-deploy/install.json'), text);
        await assertRefused(node, action, 1, /the install state \/.*install\.json is (not JSON|invalid)/);
        await node.dispose();
      });
    }
  }
});

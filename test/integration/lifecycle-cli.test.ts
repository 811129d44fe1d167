/**
 * The built CLI refuses every invalid environment value before touching the node: exit 2, one line naming the
 * variable, the value and what is accepted, and the host root byte for byte as it was. `--dry-run` changes
 * nothing either, and neither does a run that finds a corrupt install state.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, writeFile, readFile, readdir, lstat, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quoteValue } from '../../src/errors/index.js';
import { INVALID_BASE_ENV, INVALID_ENV } from '../../src/settings/invalid-examples.js';
import { runCli } from '../support/cli.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
let root: string;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'kd-cli-'));
  await mkdir(join(root, 'etc/containerd'), { recursive: true });
  await writeFile(join(root, 'etc/containerd/config.toml'), 'version = 2\n# untouched\n');
});
after(async () => rm(root, { recursive: true, force: true }));

const run = (args: string[], env: Record<string, string>) => runCli(args, { env });

async function tree(dir = root, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(join(dir, rel))).sort()) {
    const r = join(rel, name);
    const st = await lstat(join(dir, r));
    out.push(
      st.isDirectory()
        ? `${r}/`
        : `${r} ${createHash('sha256')
            .update(await readFile(join(dir, r)))
            .digest('hex')}`,
    );
    if (st.isDirectory()) out.push(...(await tree(dir, r)));
  }
  return out;
}

const flags = (action: string) => [
  action,
  '--host-root',
  root,
  '--service-manager',
  'process',
  '--runtime',
  'containerd',
  ...(action === 'install' ? ['--artifacts-dir', join(REPO, 'test/fixtures/payload')] : []),
];

describe('kata-deploy install with an invalid environment', () => {
  it('exits 2 for every invalid value, names it, and writes nothing', async () => {
    const before = await tree();
    const cases = [...INVALID_ENV];
    const results = [];
    while (cases.length > 0) {
      const batch = cases.splice(0, 4);
      results.push(
        ...(await Promise.all(
          batch.map(async ([name, value]) => ({
            name,
            value,
            r: await run(flags('install'), { ...INVALID_BASE_ENV, [name]: value }),
          })),
        )),
      );
    }
    for (const { name, value, r } of results) {
      assert.equal(r.code, 2, `${name}=${quoteValue(value, 40)}: exit ${r.code}\n${r.stderr}`);
      assert.ok(
        r.stderr.startsWith(`kata-deploy: ${name}=${quoteValue(value)} is not valid: expected `),
        `${name}: ${r.stderr}`,
      );
      assert.match(r.stderr, /nothing was changed on the node/);
    }
    assert.equal(results.length, INVALID_ENV.length);
    assert.deepEqual(await tree(), before);
  });

  it('exits 2 without NODE_NAME, for cleanup and reset too', async () => {
    const before = await tree();
    for (const action of ['install', 'cleanup', 'reset']) {
      const r = await run(flags(action), {});
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^kata-deploy: NODE_NAME=unset is not valid/);
    }
    const bad = await run([...flags('install'), '--restart-timeout', '5'], { NODE_NAME: 'n' });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--restart-timeout="5" is not valid: expected a duration from 1s to 24h/);
    assert.deepEqual(await tree(), before);
  });

  it('--dry-run prints the plan and changes nothing', async () => {
    const before = await tree();
    const r = await run([...flags('install'), '--dry-run'], {
      ...INVALID_BASE_ENV,
      CONTAINER_RUNTIME_VERSION: 'containerd://2.1.9',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /plan \(\d+ steps, nothing changed\)/);
    assert.match(
      r.stdout,
      /write \/opt\/kata\/containerd\/config\.d\/kata-deploy\.toml: kata runtime handlers/,
    );
    assert.match(r.stdout, /restart containerd\.service and wait until containerd answers/);
    assert.deepEqual(await tree(), before);
  });
});

describe('kata-deploy with a corrupt recorded edit in the install state', () => {
  it('cleanup and install stop with exit 2, name the state file and the record, and write nothing', async () => {
    const node = await mkdtemp(join(tmpdir(), 'kd-cli-state-'));
    try {
      const config = 'version = 2\n\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.kata-qemu]\n';
      await mkdir(join(node, 'etc/containerd'), { recursive: true });
      await mkdir(join(node, 'var/lib/kata-deploy'), { recursive: true });
      await writeFile(join(node, 'etc/containerd/config.toml'), config);
      await writeFile(join(node, 'etc/containerd/config.toml.kata-deploy.bak'), 'version = 2\n');
      const sha = (text: string) => createHash('sha256').update(text).digest('hex');
      const state = {
        version: 1,
        installDir: '/opt/kata',
        handlers: ['kata-qemu'],
        files: {
          '/etc/containerd/config.toml': {
            origin: 'existing',
            originalSha256: sha('version = 2\n'),
            backupFile: '/etc/containerd/config.toml.kata-deploy.bak',
            writtenSha256: sha('something else'),
            edit: { edit: { tables: 'not a list', values: [], arrayEntries: [] }, record: {} },
          },
        },
        createdDirs: [],
        phase: 'installed',
      };
      await writeFile(join(node, 'var/lib/kata-deploy/install.json'), JSON.stringify(state));
      const before = (await tree(node)).filter((l) => !l.startsWith('run'));
      for (const action of ['cleanup', 'install']) {
        const r = await run(
          [
            action,
            '--host-root',
            node,
            '--service-manager',
            'process',
            '--runtime',
            'containerd',
            '--json',
            ...(action === 'install' ? ['--artifacts-dir', join(REPO, 'test/fixtures/payload')] : []),
          ],
          { NODE_NAME: 'n', SHIMS_X86_64: 'qemu', CONTAINER_RUNTIME_VERSION: 'containerd://1.7.24' },
        );
        assert.equal(r.code, 2, `${action}: ${r.stderr}`);
        const error = (JSON.parse(r.stdout) as { error: { kind: string; message: string; input: string } })
          .error;
        assert.equal(error.kind, 'UsageError');
        assert.equal(error.input, '/var/lib/kata-deploy/install.json');
        assert.match(
          error.message,
          /the install state \/var\/lib\/kata-deploy\/install\.json is corrupt: its record of \/etc\/containerd\/config\.toml holds an edit kata-deploy cannot read \(edit\.edit\.tables: /,
        );
        assert.deepEqual(
          (await tree(node)).filter((l) => !l.startsWith('run')),
          before,
          `${action} wrote nothing`,
        );
      }
    } finally {
      await rm(node, { recursive: true, force: true });
    }
  });
});

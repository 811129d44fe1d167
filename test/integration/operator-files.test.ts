/**
 * The operator's files through the built CLI: a bad custom-runtimes.list line, a drop-in that is not TOML, a
 * containerd drop-in on containerd 1.x, DEVKIT with a payload that has no devkit extension — each one exit 2
 * with the file (and line) and the fix in the JSON error, and nothing written under the host root.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { runCli } from '../support/cli.js';

const PAYLOAD = resolve(import.meta.dirname, '../fixtures/payload');
let work: string;
let root: string;
before(async () => {
  work = await mkdtemp('/tmp/kd-opfiles-');
  root = join(work, 'root');
  await mkdir(join(root, 'etc/containerd'), { recursive: true });
  await writeFile(join(root, 'etc/containerd/config.toml'), 'version = 2\n');
  await mkdir(join(work, 'cfg'));
});
after(async () => rm(work, { recursive: true, force: true }));

async function listing(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
    const r = rel === '' ? e.name : `${rel}/${e.name}`;
    out.push(r);
    if (e.isDirectory()) out.push(...(await listing(dir, r)));
  }
  return out.sort();
}

async function refused(env: Record<string, string>, extra: string[] = []) {
  const before = await listing(root);
  const r = await runCli(
    [
      '--json',
      'install',
      '--host-root',
      root,
      '--runtime',
      'containerd',
      '--service-manager',
      'process',
    ].concat(['--artifacts-dir', PAYLOAD, '--custom-configs-dir', join(work, 'cfg'), ...extra]),
    {
      env: { NODE_NAME: 'n', SHIMS_X86_64: 'qemu', CONTAINER_RUNTIME_VERSION: 'containerd://1.7.24', ...env },
    },
  );
  assert.equal(r.code, 2, `${r.stderr}\n${r.stdout}`);
  assert.deepEqual(await listing(root), before, 'nothing written');
  return (JSON.parse(r.stdout) as { error: { kind: string; message: string; input: string; hint: string } })
    .error;
}

describe("the operator's files are validated like settings", () => {
  it('a bad custom-runtimes.list line: the file, the line, the fix; the dry run too', async () => {
    await writeFile(join(work, 'cfg/custom-runtimes.list'), 'kata-small:qemu\nkata-big:qemu-turbo\n');
    const e = await refused({ CUSTOM_RUNTIMES_ENABLED: 'true' });
    process.stdout.write(`# ${JSON.stringify(e)}\n`);
    assert.equal(e.kind, 'UsageError');
    assert.equal(e.input, join(work, 'cfg/custom-runtimes.list'));
    assert.match(
      e.message,
      /custom-runtimes\.list line 2: "kata-big:qemu-turbo" is not valid: expected a baseConfig that names a shim/,
    );
    assert.match(
      e.hint,
      /fix line 2 of .* \(one custom runtime a line: handler:baseConfig\[:snapshotter\[:crioPullType\]\]\); nothing was changed/,
    );
    await refused({ CUSTOM_RUNTIMES_ENABLED: 'true' }, ['--dry-run']);
  });

  it('a drop-in that is not TOML, a containerd drop-in on containerd 1.x, DEVKIT without the extension', async () => {
    await writeFile(join(work, 'cfg/custom-runtimes.list'), 'kata-small:qemu\n');
    await writeFile(join(work, 'cfg/dropin-kata-small.toml'), '[hypervisor.qemu\n');
    const toml = await refused({ CUSTOM_RUNTIMES_ENABLED: 'true' });
    assert.equal(toml.input, join(work, 'cfg/dropin-kata-small.toml'));
    await rm(join(work, 'cfg/dropin-kata-small.toml'));
    await writeFile(join(work, 'user.toml'), 'version = 2\n');
    const user = await refused({ CONTAINERD_USER_DROP_IN_SOURCE_FILE: join(work, 'user.toml') });
    assert.equal(user.input, 'CONTAINERD_USER_DROP_IN_SOURCE_FILE');
    assert.match(user.message, /needs containerd drop-in support/);
    const devkit = await refused({ DEBUG: 'true', DEVKIT: 'true' });
    assert.match(devkit.message, /DEVKIT=true, but --artifacts-dir .* has no devkit extension/);
  });
});

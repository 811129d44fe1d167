/**
 * `containerd config dump` as the restart's check runs it, against a stand-in containerd (a shell script that
 * records how it was called and what it saw) under a host root the test owns.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHost } from '../../host/index.js';
import { deriveNames } from '../../names/index.js';
import { loadSettings, type RuntimeName } from '../../settings/index.js';
import { dumpHandlers } from './config-dump.js';

let dir: string;
let root: string;
let privateTmp: string;
let savedTmp: string | undefined;

const DUMP = `version = 3
[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.kata-qemu]
  runtime_type = "io.containerd.kata-qemu.v2"
`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kd-dump-test-'));
  root = join(dir, 'root');
  privateTmp = join(dir, 'tmp');
  await mkdir(join(root, 'etc/containerd'), { recursive: true });
  await mkdir(privateTmp);
  await writeFile(
    join(root, 'etc/containerd/config.toml'),
    'version = 3\nimports = ["/opt/kata/containerd/config.d/kata-deploy.toml", "conf.d/*.toml"]\n',
  );
  // The stand-in records its arguments, its config as read from --config, and what $TMPDIR holds meanwhile.
  await writeFile(
    join(dir, 'containerd'),
    `#!/bin/sh
printf '%s\\n' "$@" > "${dir}/args"
cat "$2" > "${dir}/config"
ls -A "$TMPDIR" > "${dir}/tmp-during"
if [ -e "${dir}/fail" ]; then echo "containerd: invalid config" >&2; exit 1; fi
cat <<'EOF'
${DUMP}EOF
`,
  );
  await chmod(join(dir, 'containerd'), 0o755);
  // Whatever the code under test puts in "the machine's /tmp" lands here, where the stand-in can see it.
  savedTmp = process.env['TMPDIR'];
  process.env['TMPDIR'] = privateTmp;
});
after(async () => {
  if (savedTmp === undefined) delete process.env['TMPDIR'];
  else process.env['TMPDIR'] = savedTmp;
  await rm(dir, { recursive: true, force: true });
});

function setup(runtime: RuntimeName = 'containerd') {
  const settings = loadSettings({ env: { NODE_NAME: 'n', SHIMS_X86_64: 'qemu' }, arch: 'x86_64' });
  return { host: createHost({ root, serviceManager: 'process' }), names: deriveNames(settings, runtime) };
}

describe('dumpHandlers', () => {
  it('feeds the config on stdin, imports under the host root, and leaves nothing in /tmp at any moment', async () => {
    const { host, names } = setup();
    const seen = await dumpHandlers(host, names, join(dir, 'containerd'));
    assert.deepEqual(seen, { state: 'seen', handlers: ['kata-qemu', 'runc'] });
    assert.deepEqual((await readFile(join(dir, 'args'), 'utf8')).split('\n').slice(0, 4), [
      '--config',
      '/dev/stdin',
      'config',
      'dump',
    ]);
    assert.match(
      await readFile(join(dir, 'config'), 'utf8'),
      new RegExp(
        `imports = \\[\\s*"${root}/opt/kata/containerd/config\\.d/kata-deploy\\.toml",\\s*"${root}/etc/containerd/conf\\.d/\\*\\.toml"`,
      ),
    );
    // Nothing of ours in /tmp while containerd ran (a kill then would have left it) nor after.
    assert.equal(await readFile(join(dir, 'tmp-during'), 'utf8'), '');
    assert.deepEqual(await readdir(privateTmp), []);
  });

  it('a dump that fails is a failed source, not a verdict', async () => {
    const { host, names } = setup();
    await writeFile(join(dir, 'fail'), '');
    try {
      const r = await dumpHandlers(host, names, join(dir, 'containerd'));
      assert.equal(r.state, 'failed');
      assert.match(r.state === 'failed' ? r.reason : '', /config dump failed: containerd: invalid config/);
    } finally {
      await rm(join(dir, 'fail'));
    }
  });

  it('does not apply without a binary, on k0s or on microk8s', async () => {
    const { host, names } = setup();
    assert.equal((await dumpHandlers(host, names, undefined)).state, 'not-applicable');
    for (const runtime of ['k0s-worker', 'microk8s'] as const) {
      const other = setup(runtime);
      assert.equal(
        (await dumpHandlers(other.host, other.names, join(dir, 'containerd'))).state,
        'not-applicable',
      );
    }
  });
});

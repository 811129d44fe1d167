/** `kata-deploy check` through the real entry point, against fixture trees: output, --json, exit codes. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FIXTURE_ROOT, Tree } from '../../test/fixtures/host/tree.js';
import type { CheckReport } from '../check/types.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));

function cli(args: string[], env: Record<string, string> = {}) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', ...args], {
    cwd: repo,
    encoding: 'utf8',
    env: { ...process.env, KATA_CHECK_NO_NETWORK: '', ...env },
    timeout: 30_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

const tree = (name: string) => join(FIXTURE_ROOT, name);

test('capable host: exit 0; only WARN/FAIL lines and the verdict, every line with --verbose', () => {
  const quiet = cli(['check', '--host-root', tree('amd-nested-pvm')]);
  assert.equal(quiet.code, 0, quiet.stderr);
  const lines = quiet.stdout.trim().split('\n');
  assert.equal(
    lines.at(-1),
    'System is capable of running Kata Containers with clh, dragonball, firecracker (not with qemu)',
  );
  assert.ok(
    lines.every((l) => /^(WARN|NOTE) /.test(l) || l === lines.at(-1)),
    quiet.stdout,
  );
  assert.ok(lines.some((l) => l.startsWith('NOTE  nested virtualisation')));
  const verbose = cli(['check', '--verbose', '--host-root', tree('amd-nested-pvm')]);
  assert.match(verbose.stdout, /^PASS {2}created a test VM/m);
});

test('not capable: exit 1 with the FAIL line and its hint', () => {
  const t = new Tree('intel-bare-metal');
  try {
    t.withoutModule('tun')
      .remove('/dev/net/tun')
      .fixture({ releases: { error: 'offline' } });
    const run = cli(['check', '-n', '--host-root', t.root]);
    assert.equal(run.code, 1);
    assert.doesNotMatch(run.stdout, /newer releases/, '-n skips the release check');
    assert.match(
      run.stdout,
      /^FAIL {2}tun \(TUN\/TAP devices for the pod network\): installed but not loaded \(load it with `modprobe tun`/m,
    );
    assert.match(run.stdout, /System is not capable of running Kata Containers\n$/);
  } finally {
    t.dispose();
  }
});

test('--json: checks with id, status, message, hint; verdict, arch, vendor, notes', () => {
  const run = cli(['--json', 'check', '--host-root', tree('amd-nested-pvm')]);
  assert.equal(run.code, 0, run.stderr);
  const report = JSON.parse(run.stdout) as CheckReport;
  assert.equal(report.verdict, 'capable');
  assert.equal(report.arch, 'amd64');
  assert.equal(report.vendor, 'amd');
  assert.ok(report.notes.length >= 1);
  const vsock = report.checks.find((c) => c.id === 'module.vhost_vsock');
  assert.deepEqual(Object.keys(vsock ?? {}).sort(), ['blocks', 'hint', 'id', 'message', 'status']);
  assert.ok(report.checks.every((c) => ['pass', 'warn', 'fail', 'skip'].includes(c.status)));
});

test('KATA_CHECK_NO_NETWORK (non-empty) skips the release check; empty does not', () => {
  const env = cli(['--json', 'check', '--host-root', tree('arm64')], { KATA_CHECK_NO_NETWORK: '1' });
  const report = JSON.parse(env.stdout) as CheckReport;
  assert.equal(report.checks.find((c) => c.id === 'release')?.status, 'skip');
  const unset = JSON.parse(cli(['--json', 'check', '--host-root', tree('arm64')]).stdout) as CheckReport;
  assert.equal(unset.checks.find((c) => c.id === 'release')?.status, 'pass');
});

test('usage errors exit 2: an unknown hypervisor, a --host-root that is not a directory', () => {
  const hv = cli(['check', '--hypervisor', 'acrn', '--host-root', tree('arm64')]);
  assert.equal(hv.code, 2);
  assert.match(hv.stderr, /Allowed choices are qemu, clh, firecracker, dragonball, stratovirt, remote/);
  const root = cli(['check', '--host-root', '/nonexistent/tree']);
  assert.equal(root.code, 2);
  assert.match(root.stderr, /--host-root: \/nonexistent\/tree is not a directory/);
});

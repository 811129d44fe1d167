/**
 * `kata-deploy check` on the real machine: the koffi KVM probe against /dev/kvm, the release check against
 * the real network (unreachable on the test bed: it must WARN quickly), and the verdict on this host.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { normaliseArch } from '../../src/check/arch.js';
import { systemHostFacts } from '../../src/check/host.js';
import { probeKvm } from '../../src/check/kvm-probe.js';
import { runCheck } from '../../src/check/run.js';

const root = process.geteuid?.() === 0;
const hasKvm = existsSync('/dev/kvm');
const arch = normaliseArch(readFileSync('/proc/sys/kernel/arch', 'utf8'));

test(
  'the KVM probe opens /dev/kvm, sees API version 12, creates a VM and leaks no descriptor',
  {
    skip: !root || !hasKvm || !arch ? 'needs root and /dev/kvm' : false,
  },
  async () => {
    const before = readdirSync('/proc/self/fd').length;
    const result = await probeKvm('/dev/kvm', arch!);
    assert.equal(result.kind, 'ok', JSON.stringify(result));
    assert.equal(result.kind === 'ok' ? result.apiVersion : 0, 12);
    assert.equal(readdirSync('/proc/self/fd').length, before);
  },
);

test('the probe reports a missing device as ENOENT rather than guessing', async () => {
  assert.deepEqual(await probeKvm('/nonexistent/kvm', arch ?? 'amd64'), {
    kind: 'open-failed',
    errno: 'ENOENT',
  });
});

test(
  'this host: a working KVM probe makes it capable even when cpuinfo hides vmx/svm (nested)',
  {
    skip: !root || !hasKvm ? 'needs root and /dev/kvm' : false,
  },
  async () => {
    const report = await runCheck(systemHostFacts(), { skipReleaseCheck: 'integration test' });
    const create = report.checks.find((f) => f.id === 'kvm.create-vm');
    assert.equal(create?.status, 'pass', JSON.stringify(report.checks, null, 2));
    const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
    if (arch === 'amd64' && !/\b(vmx|svm)\b/.test(cpuinfo) && /\bhypervisor\b/.test(cpuinfo)) {
      assert.equal(report.verdict, 'capable', report.message);
      assert.ok(
        report.notes.some((n) => n.startsWith('nested virtualisation')),
        report.notes.join('\n'),
      );
    }
  },
);

test('the release check against the real network answers within its deadline and never fails the host', async () => {
  const started = Date.now();
  const report = await runCheck(systemHostFacts(), { releaseTimeoutMs: 3000 });
  const elapsed = Date.now() - started;
  assert.ok(elapsed < 6000, `took ${elapsed} ms`);
  const release = report.checks.find((f) => f.id === 'release');
  assert.ok(release && release.status !== 'fail', JSON.stringify(release));
});

/**
 * Fixture-tree tests named after the upstream defects they guard against
 * (../shared/docs/reference/kata-check-upstream.md §8). Defects 1 and 3 are in check-intel.test.ts.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { finding, withTree } from '../../test/fixtures/host/tree.js';

test('upstream defect 2 (Intel + remote is "Unknown hypervisor type"): remote needs no local KVM', () =>
  withTree('intel-bare-metal', async (tree) => {
    tree
      .withoutFlags('vmx')
      .withoutModule('kvm_intel')
      .withoutModule('kvm')
      .remove('/dev/kvm')
      .fixture({ kvmProbe: { kind: 'open-failed', errno: 'ENOENT' } });
    const report = await tree.check({ hypervisor: 'remote' });
    assert.equal(report.verdict, 'capable');
    assert.deepEqual(report.hypervisors, { checked: ['remote'], usable: ['remote'] });
    assert.equal(
      report.checks.some((f) => /^(cpu|module|kvm)\./.test(f.id)),
      false,
    );
    assert.ok(report.notes.some((n) => n.startsWith('remote hypervisor')));
  }));

test('upstream defect 2 (dragonball as root is "Unknown hypervisor type"): dragonball gets the KVM probe', () =>
  withTree('intel-bare-metal', async (tree) => {
    const ok = await tree.check({ hypervisor: 'dragonball' });
    assert.equal(ok.verdict, 'capable');
    assert.equal(finding(ok, 'kvm.create-vm').status, 'pass');
    assert.equal(ok.message, 'System is capable of running Kata Containers with dragonball');
    tree.fixture({ kvmProbe: { kind: 'create-vm-failed', apiVersion: 12, errno: 'EBUSY' } });
    const busy = await tree.check({ hypervisor: 'dragonball' });
    assert.equal(busy.verdict, 'not-capable');
  }));

test('upstream defect 4 (network failure fails a capable host): an unreachable API is a WARN', () =>
  withTree('intel-bare-metal', async (tree) => {
    tree.fixture({ euid: 1000, releases: { error: 'cannot reach api.github.com: ENOTFOUND' } });
    const report = await tree.check();
    const release = finding(report, 'release');
    assert.equal(release.status, 'warn');
    assert.match(release.hint ?? '', /--no-network-checks/);
    assert.equal(report.verdict, 'capable');
  }));

test('upstream defect 4: a GitHub rate limit is a WARN, not a failure', () =>
  withTree('intel-bare-metal', async (tree) => {
    tree.fixture({ releases: 'rate-limited' });
    const report = await tree.check();
    assert.match(finding(report, 'release').message, /rate limit/);
    assert.equal(report.verdict, 'capable');
  }));

test('release check: a newer release is reported in upstream words; skipped when asked', () =>
  withTree('intel-bare-metal', async (tree) => {
    const older = await tree.check({ kataVersion: '3.19.1' });
    assert.equal(
      finding(older, 'release').message,
      'Newer minor release available: 3.20.0 (url: https://github.com/kata-containers/kata-containers/releases/tag/3.20.0, date: 2025-08-15T10:00:00Z)',
    );
    assert.equal(older.verdict, 'capable');
    const withPre = await tree.check({ includePrereleases: true });
    assert.match(finding(withPre, 'release').message, /^Newer minor pre-release available: 3\.21\.0-rc0/);
    const skipped = await tree.check({ skipReleaseCheck: '--no-network-checks' });
    assert.equal(finding(skipped, 'release').status, 'skip');
  }));

test('upstream gap (modprobe as root): the check never loads modules or runs commands', () => {
  const dir = fileURLToPath(new URL('.', import.meta.url));
  const sources = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter(
    (f) => f.endsWith('.ts') && !f.endsWith('.test.ts'),
  );
  assert.ok(sources.length > 10);
  for (const file of sources) {
    const text = readFileSync(join(dir, file), 'utf8');
    assert.doesNotMatch(text, /child_process|execa|spawn\(/, file);
  }
});

/** Fixture-tree tests: amd64 AMD hosts, and the KVM probe outcomes (test/fixtures/host/amd-bare-metal). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { finding, withTree } from '../../test/fixtures/host/tree.js';

test('amd bare metal: every check passes; kvm_amd is checked, Intel parameters are not', () =>
  withTree('amd-bare-metal', async (tree) => {
    const report = await tree.check();
    assert.equal(report.verdict, 'capable');
    assert.equal(report.vendor, 'amd');
    assert.equal(report.cpuModel, 'AMD EPYC 7763 64-Core Processor');
    assert.deepEqual(
      report.checks.filter((f) => f.status !== 'pass'),
      [],
    );
    assert.equal(finding(report, 'cpu.flag.svm').status, 'pass');
    assert.equal(finding(report, 'module.kvm_amd').status, 'pass');
    assert.equal(
      report.checks.some((f) => f.id.startsWith('module.kvm_intel')),
      false,
    );
  }));

test('amd: svm missing on bare metal fails with the SVM/AMD-V BIOS hint', () =>
  withTree('amd-bare-metal', async (tree) => {
    tree
      .withoutFlags('svm')
      .withoutModule('kvm_amd')
      .remove('/dev/kvm')
      .fixture({ kvmProbe: { kind: 'open-failed', errno: 'ENOENT' } });
    const report = await tree.check();
    const svm = finding(report, 'cpu.flag.svm');
    assert.equal(svm.status, 'fail');
    assert.match(svm.hint ?? '', /SVM Mode \(AMD-V\).*BIOS/);
    assert.match(finding(report, 'module.kvm_amd').hint ?? '', /modprobe kvm_amd/);
    assert.match(finding(report, 'kvm.device').hint ?? '', /modprobe kvm_amd.*enable svm in the BIOS/);
    assert.equal(report.verdict, 'not-capable');
  }));

test('amd: a Hygon CPU is checked with the AMD rules', () =>
  withTree('amd-bare-metal', async (tree) => {
    tree.edit('/proc/cpuinfo', (t) => t.replace(/AuthenticAMD/g, 'HygonGenuine'));
    const report = await tree.check();
    assert.equal(report.vendor, 'hygon');
    assert.equal(finding(report, 'module.kvm_amd').status, 'pass');
    assert.equal(report.verdict, 'capable');
  }));

test('kvm probe: EBUSY from KVM_CREATE_VM means another hypervisor is running', () =>
  withTree('amd-bare-metal', async (tree) => {
    tree.fixture({ kvmProbe: { kind: 'create-vm-failed', apiVersion: 12, errno: 'EBUSY' } });
    const report = await tree.check();
    const create = finding(report, 'kvm.create-vm');
    assert.equal(create.status, 'fail');
    assert.match(create.message, /another hypervisor is running/);
    assert.match(create.hint ?? '', /vboxdrv/);
    assert.equal(finding(report, 'kvm.api-version').status, 'pass');
    assert.equal(report.verdict, 'not-capable');
  }));

test('kvm probe: any other KVM_CREATE_VM errno fails and names the errno', () =>
  withTree('amd-bare-metal', async (tree) => {
    tree.fixture({ kvmProbe: { kind: 'create-vm-failed', apiVersion: 12, errno: 'EINVAL' } });
    const report = await tree.check();
    assert.match(finding(report, 'kvm.create-vm').message, /KVM_CREATE_VM: EINVAL/);
    assert.equal(report.verdict, 'not-capable');
  }));

test('kvm probe: an API version other than 12 fails', () =>
  withTree('amd-bare-metal', async (tree) => {
    tree.fixture({ kvmProbe: { kind: 'api-version-mismatch', apiVersion: 11 } });
    const report = await tree.check();
    const api = finding(report, 'kvm.api-version');
    assert.equal(api.status, 'fail');
    assert.match(api.message, /KVM API version is 11, expected 12/);
    assert.equal(
      report.checks.some((f) => f.id === 'kvm.create-vm'),
      false,
    );
  }));

test('kvm probe: a failing KVM_GET_API_VERSION fails', () =>
  withTree('amd-bare-metal', async (tree) => {
    tree.fixture({ kvmProbe: { kind: 'api-version-failed', errno: 'ENOTTY' } });
    const report = await tree.check();
    assert.match(finding(report, 'kvm.api-version').message, /ENOTTY/);
    assert.equal(report.verdict, 'not-capable');
  }));

test('kvm probe: root denied access to /dev/kvm fails with a cgroup/container hint', () =>
  withTree('amd-bare-metal', async (tree) => {
    tree.fixture({ kvmProbe: { kind: 'open-failed', errno: 'EACCES' } });
    const report = await tree.check();
    const open = finding(report, 'kvm.open');
    assert.equal(open.status, 'fail');
    assert.match(open.hint ?? '', /device cgroup/);
  }));

test('kvm probe: a non-root user without access gets a WARN, and a bare-metal host stays capable', () =>
  withTree('amd-bare-metal', async (tree) => {
    tree.fixture({ euid: 1000, kvmProbe: { kind: 'open-failed', errno: 'EACCES' } });
    const report = await tree.check();
    const probe = finding(report, 'kvm.probe');
    assert.equal(probe.status, 'warn');
    assert.match(probe.message, /uid 1000 may not open \/dev\/kvm/);
    assert.match(probe.hint ?? '', /run as root/);
    assert.equal(report.root, false);
    assert.equal(report.verdict, 'capable');
  }));

test('kvm probe: where it cannot run (no libc, not Linux) the report says so', () =>
  withTree('amd-bare-metal', async (tree) => {
    tree.fixture({
      kvmProbe: { kind: 'not-run', reason: 'cannot load the C library (libc.so.6: not found)' },
    });
    const report = await tree.check();
    assert.match(finding(report, 'kvm.probe').message, /KVM probe not run: cannot load the C library/);
  }));

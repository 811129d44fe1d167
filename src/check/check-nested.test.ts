/**
 * Fixture-tree tests: hosts that are themselves VMs. `amd-nested-pvm` has the shape of the test bed: no svm
 * flag, the hypervisor flag, KVM from kvm_pvm, no module support and no vhost in the kernel.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { finding, withTree } from '../../test/fixtures/host/tree.js';

test('nested: svm hidden but the KVM probe works → capable, with the nested-virtualisation note', () =>
  withTree('amd-nested-pvm', async (tree) => {
    const report = await tree.check();
    assert.equal(report.verdict, 'capable');
    assert.equal(report.capable, true);
    const svm = finding(report, 'cpu.flag.svm');
    assert.equal(svm.status, 'warn');
    assert.match(svm.message, /KVM probe created a VM/);
    assert.ok(report.notes.some((n) => /^nested virtualisation: .*no svm flag.*hypervisor flag/.test(n)));
    assert.ok(report.notes.some((n) => /kvm_pvm/.test(n)));
    assert.equal(finding(report, 'kvm.create-vm').status, 'pass');
    assert.equal(finding(report, 'module.kvm').status, 'pass');
    assert.equal(finding(report, 'module.tun').status, 'pass');
  }));

test('nested: a kernel without vhost rules out qemu only, and the hint names the Kconfig symbol', () =>
  withTree('amd-nested-pvm', async (tree) => {
    const report = await tree.check();
    assert.deepEqual(report.hypervisors.usable, ['clh', 'dragonball', 'firecracker']);
    const vsock = finding(report, 'module.vhost_vsock');
    assert.equal(vsock.status, 'warn');
    assert.deepEqual(vsock.blocks, ['qemu']);
    assert.match(vsock.hint ?? '', /built without CONFIG_VHOST_VSOCK/);
    const amd = finding(report, 'module.kvm_amd');
    assert.equal(amd.status, 'warn');
    assert.match(amd.message, /not in this kernel; KVM is provided by kvm_pvm/);
    const qemuOnly = await tree.check({ hypervisor: 'qemu' });
    assert.equal(qemuOnly.verdict, 'not-capable');
  }));

test('nested: as non-root with kvm_pvm loaded the missing svm is not held against the host', () =>
  withTree('amd-nested-pvm', async (tree) => {
    tree.fixture({ euid: 1000, kvmProbe: { kind: 'open-failed', errno: 'EACCES' } });
    const report = await tree.check();
    assert.match(finding(report, 'cpu.flag.svm').message, /kvm_pvm provides KVM without it/);
    assert.equal(finding(report, 'kvm.probe').status, 'warn');
    assert.equal(report.verdict, 'capable');
  }));

test('nested: Intel VM hiding vmx, KVM probe works → capable with the note', () =>
  withTree('intel-bare-metal', async (tree) => {
    tree.withFlags('hypervisor').withoutFlags('vmx').withoutModule('kvm_intel');
    const report = await tree.check();
    assert.equal(finding(report, 'cpu.flag.vmx').status, 'warn');
    assert.match(finding(report, 'module.kvm_intel').message, /but the KVM probe created a VM/);
    assert.ok(report.notes.some((n) => n.startsWith('nested virtualisation: /proc/cpuinfo has no vmx flag')));
    assert.equal(report.verdict, 'capable');
  }));

test('nested: without the probe (non-root) a VM hiding vmx is undecided, not called capable', () =>
  withTree('intel-bare-metal', async (tree) => {
    tree
      .withFlags('hypervisor')
      .withoutFlags('vmx')
      .fixture({ euid: 1000, kvmProbe: { kind: 'open-failed', errno: 'EACCES' } });
    const report = await tree.check();
    const vmx = finding(report, 'cpu.flag.vmx');
    assert.equal(vmx.status, 'warn');
    assert.equal(vmx.undecided, true);
    assert.match(vmx.hint ?? '', /run kata-deploy check as root/);
    assert.equal(report.verdict, 'unknown');
    assert.equal(report.capable, false);
    assert.match(report.message, /^Cannot tell whether this system can run Kata Containers/);
  }));

test('nested: a VM hiding vmx whose KVM probe fails is not capable, with the nested hint', () =>
  withTree('intel-bare-metal', async (tree) => {
    tree
      .withFlags('hypervisor')
      .withoutFlags('vmx')
      .withoutModule('kvm_intel')
      .remove('/dev/kvm')
      .fixture({ kvmProbe: { kind: 'open-failed', errno: 'ENOENT' } });
    const report = await tree.check();
    const vmx = finding(report, 'cpu.flag.vmx');
    assert.equal(vmx.status, 'fail');
    assert.match(vmx.hint ?? '', /nested virtualisation on the outer hypervisor/);
    assert.equal(report.verdict, 'not-capable');
  }));

test('nested: a VM lacking lm is told to pass the host CPU model through', () =>
  withTree('amd-nested-pvm', async (tree) => {
    const report = await tree.withoutFlags('lm').check();
    assert.match(finding(report, 'cpu.flag.lm').hint ?? '', /-cpu host/);
  }));

test('nested: without module support and without a kernel config, the hint asks for a built-in module', () =>
  withTree('amd-nested-pvm', async (tree) => {
    tree.remove('/boot');
    const report = await tree.check();
    assert.match(
      finding(report, 'module.vhost_vsock').hint ?? '',
      /this kernel cannot load modules \(no \/proc\/modules\); it needs CONFIG_VHOST_VSOCK=y/,
    );
    assert.equal(report.verdict, 'capable');
  }));

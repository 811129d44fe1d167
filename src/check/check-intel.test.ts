/** Fixture-tree tests: amd64 Intel hosts (test/fixtures/host/intel-bare-metal and mutations of it). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { finding, withTree } from '../../test/fixtures/host/tree.js';

test('intel bare metal: every check passes and all shipped hypervisors are usable', () =>
  withTree('intel-bare-metal', async (tree) => {
    const report = await tree.check();
    assert.equal(report.verdict, 'capable');
    assert.equal(report.vendor, 'intel');
    assert.equal(report.arch, 'amd64');
    assert.deepEqual(report.hypervisors.usable, ['qemu', 'clh', 'dragonball', 'firecracker']);
    const notPassing = report.checks.filter((f) => f.status !== 'pass');
    assert.deepEqual(notPassing, []);
    for (const id of [
      'cpu.vendor',
      'cpu.flag.lm',
      'cpu.flag.sse4_1',
      'cpu.flag.vmx',
      'module.kvm_intel',
      'module.kvm_intel.unrestricted_guest',
      'module.kvm',
      'module.vhost',
      'module.vhost_net',
      'module.vhost_vsock',
      'module.tun',
      'kvm.device',
      'kvm.open',
      'kvm.api-version',
      'kvm.create-vm',
      'release',
    ]) {
      assert.equal(finding(report, id).status, 'pass', id);
    }
    assert.deepEqual(report.notes, []);
  }));

test('intel: vmx missing on bare metal fails with the BIOS hint', () =>
  withTree('intel-bare-metal', async (tree) => {
    tree
      .withoutFlags('vmx')
      .withoutModule('kvm_intel')
      .remove('/dev/kvm')
      .fixture({ kvmProbe: { kind: 'open-failed', errno: 'ENOENT' } });
    const report = await tree.check();
    assert.equal(report.verdict, 'not-capable');
    const vmx = finding(report, 'cpu.flag.vmx');
    assert.equal(vmx.status, 'fail');
    assert.match(vmx.hint ?? '', /VT-x.*BIOS/);
    const mod = finding(report, 'module.kvm_intel');
    assert.equal(mod.status, 'fail');
    assert.match(mod.hint ?? '', /modprobe kvm_intel/);
    assert.match(mod.hint ?? '', /vmx is disabled in the BIOS/);
    assert.equal(finding(report, 'kvm.device').status, 'fail');
    // The missing device is reported once, not again as a failed open.
    assert.equal(
      report.checks.find((f) => f.id === 'kvm.open'),
      undefined,
    );
  }));

for (const [flag, what] of [
  ['lm', '64-bit CPU'],
  ['sse4_1', 'SSE4.1'],
] as const) {
  test(`intel: the ${flag} flag missing fails`, () =>
    withTree('intel-bare-metal', async (tree) => {
      const report = await tree.withoutFlags(flag).check();
      const f = finding(report, `cpu.flag.${flag}`);
      assert.equal(f.status, 'fail');
      assert.match(f.message, new RegExp(what));
      assert.equal(report.verdict, 'not-capable');
      assert.equal(report.capable, false);
    }));
}

test('intel: kvm_intel installed but not loaded fails with the modprobe hint (and nothing is loaded)', () =>
  withTree('intel-bare-metal', async (tree) => {
    tree
      .withoutModule('kvm_intel')
      .remove('/dev/kvm')
      .fixture({ kvmProbe: { kind: 'open-failed', errno: 'ENOENT' } });
    const report = await tree.check();
    const mod = finding(report, 'module.kvm_intel');
    assert.equal(mod.status, 'fail');
    assert.match(mod.message, /installed but not loaded/);
    assert.match(mod.hint ?? '', /`modprobe kvm_intel`/);
    assert.doesNotMatch(mod.hint ?? '', /BIOS/, 'vmx is present, so the BIOS is not the suspect');
    assert.match(finding(report, 'kvm.device').hint ?? '', /modprobe kvm_intel/);
    assert.doesNotMatch(tree.read('/proc/modules'), /^kvm_intel /m);
  }));

test('upstream defect 1 (inverted unrestricted_guest condition): N on bare metal fails', () =>
  withTree('intel-bare-metal', async (tree) => {
    tree.write('/sys/module/kvm_intel/parameters/unrestricted_guest', 'N\n');
    const report = await tree.check();
    const param = finding(report, 'module.kvm_intel.unrestricted_guest');
    assert.equal(param.status, 'fail');
    assert.match(param.message, /kvm_intel\.unrestricted_guest=N, expected Y/);
    assert.match(param.hint ?? '', /modprobe kvm_intel unrestricted_guest=1/);
    assert.match(param.hint ?? '', /\/etc\/modprobe\.d/);
    assert.equal(report.verdict, 'not-capable');
  }));

test('upstream defect 1: unrestricted_guest=N is relaxed to a WARN when the hypervisor flag is set', () =>
  withTree('intel-bare-metal', async (tree) => {
    tree.write('/sys/module/kvm_intel/parameters/unrestricted_guest', 'N\n').withFlags('hypervisor');
    const report = await tree.check();
    assert.equal(finding(report, 'module.kvm_intel.unrestricted_guest').status, 'warn');
    assert.equal(report.verdict, 'capable');
  }));

test('intel: an unreadable unrestricted_guest parameter warns instead of aborting the check', () =>
  withTree('intel-bare-metal', async (tree) => {
    tree.remove('/sys/module/kvm_intel/parameters/unrestricted_guest');
    const report = await tree.check();
    const param = finding(report, 'module.kvm_intel.unrestricted_guest');
    assert.equal(param.status, 'warn');
    assert.match(param.message, /ENOENT/);
    assert.equal(report.verdict, 'capable');
  }));

test('intel: vhost_vsock missing blocks qemu only; the other hypervisors stay usable', () =>
  withTree('intel-bare-metal', async (tree) => {
    tree.withoutModule('vhost_vsock').remove('/dev/vhost-vsock');
    const report = await tree.check();
    const vsock = finding(report, 'module.vhost_vsock');
    assert.equal(vsock.status, 'warn');
    assert.deepEqual(vsock.blocks, ['qemu']);
    assert.match(vsock.hint ?? '', /modprobe vhost_vsock/);
    assert.equal(report.verdict, 'capable');
    assert.deepEqual(report.hypervisors.usable, ['clh', 'dragonball', 'firecracker']);
    assert.match(report.message, /with clh, dragonball, firecracker \(not with qemu\)/);
  }));

test('intel: with --hypervisor qemu a missing vhost_vsock fails', () =>
  withTree('intel-bare-metal', async (tree) => {
    tree.withoutModule('vhost_vsock').remove('/dev/vhost-vsock');
    const report = await tree.check({ hypervisor: 'qemu' });
    assert.equal(finding(report, 'module.vhost_vsock').status, 'fail');
    assert.equal(report.verdict, 'not-capable');
  }));

test('intel: with --hypervisor clh the vhost modules are not checked at all', () =>
  withTree('intel-bare-metal', async (tree) => {
    tree.withoutModule('vhost_vsock').withoutModule('vhost_net').withoutModule('vhost');
    const report = await tree.check({ hypervisor: 'clh' });
    assert.equal(
      report.checks.some((f) => f.id.startsWith('module.vhost')),
      false,
    );
    assert.equal(report.verdict, 'capable');
    assert.equal(report.message, 'System is capable of running Kata Containers with clh');
  }));

test('intel: /dev/net/tun missing fails for every hypervisor', () =>
  withTree('intel-bare-metal', async (tree) => {
    tree.withoutModule('tun').remove('/dev/net/tun');
    const report = await tree.check();
    assert.equal(finding(report, 'module.tun').status, 'fail');
    assert.equal(report.verdict, 'not-capable');
  }));

test('intel: a module built into the kernel counts as present', () =>
  withTree('intel-bare-metal', async (tree) => {
    tree.withoutModule('vhost_vsock').remove('/dev/vhost-vsock');
    tree.write('/lib/modules/6.8.0-45-generic/modules.builtin', 'kernel/drivers/vhost/vhost_vsock.ko\n');
    const report = await tree.check();
    const vsock = finding(report, 'module.vhost_vsock');
    assert.equal(vsock.status, 'pass');
    assert.match(vsock.message, /built in/);
  }));

test('upstream defect 3 (getCPUtype bypasses the cpuinfo override): the vendor comes from the tree', () =>
  withTree('intel-bare-metal', async (tree) => {
    // Whatever CPU runs this test, the Intel tree is checked as Intel: kvm_intel, vmx.
    const report = await tree.check();
    assert.equal(report.vendor, 'intel');
    assert.ok(finding(report, 'module.kvm_intel'));
    assert.ok(finding(report, 'cpu.flag.vmx'));
    assert.equal(
      report.checks.some((f) => f.id === 'module.kvm_amd'),
      false,
    );
  }));

test('intel: an unknown vendor with vmx is checked as Intel-compatible; without vmx/svm it fails', () =>
  withTree('intel-bare-metal', async (tree) => {
    tree.edit('/proc/cpuinfo', (t) => t.replace(/GenuineIntel/g, 'CentaurHauls'));
    const compatible = await tree.check();
    assert.equal(finding(compatible, 'cpu.vendor').status, 'warn');
    assert.ok(finding(compatible, 'module.kvm_intel'));
    assert.equal(compatible.verdict, 'capable');
    tree.withoutFlags('vmx').fixture({ kvmProbe: { kind: 'open-failed', errno: 'ENXIO' } });
    const unknown = await tree.check();
    assert.equal(finding(unknown, 'cpu.vendor').status, 'fail');
    assert.equal(unknown.vendor, 'other');
    assert.equal(unknown.verdict, 'not-capable');
  }));

test('intel: the kvm module missing fails, and so does the device', () =>
  withTree('intel-bare-metal', async (tree) => {
    tree
      .withoutModule('kvm')
      .remove('/dev/kvm')
      .fixture({ kvmProbe: { kind: 'open-failed', errno: 'ENOENT' } });
    const report = await tree.check();
    const kvm = finding(report, 'module.kvm');
    assert.equal(kvm.status, 'fail');
    assert.match(kvm.hint ?? '', /modprobe kvm/);
    assert.equal(finding(report, 'kvm.device').status, 'fail');
  }));

test('intel: cpuinfo without a flags line fails ("Cannot find CPU flags")', () =>
  withTree('intel-bare-metal', async (tree) => {
    tree.edit('/proc/cpuinfo', (t) => t.replace(/^flags\s*:.*\n/gm, ''));
    const report = await tree.check();
    assert.equal(finding(report, 'cpu.flags').status, 'fail');
    assert.equal(report.verdict, 'not-capable');
  }));

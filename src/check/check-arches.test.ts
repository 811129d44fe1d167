/**
 * Fixture-tree tests for arm64, ppc64le and s390x. kata-ctl fails `check all` on all three ("Invalid
 * command"); here each gets real module, device and KVM checks (the "kata-ctl per-arch gaps" defect).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { finding, statuses, withTree } from '../../test/fixtures/host/tree.js';

test('kata-ctl gap (arm64 only tests /dev/kvm): arm64 gets module, device and probe checks', () =>
  withTree('arm64', async (tree) => {
    const report = await tree.check();
    assert.equal(report.verdict, 'capable');
    assert.equal(report.vendor, 'arm');
    assert.equal(report.cpuModel, 'ARMv8');
    assert.deepEqual(
      report.checks.filter((f) => f.status !== 'pass'),
      [],
    );
    for (const id of [
      'module.kvm',
      'module.vhost_net',
      'module.vhost_vsock',
      'kvm.arm-mode',
      'kvm.create-vm',
    ]) {
      assert.equal(finding(report, id).status, 'pass', id);
    }
    assert.ok(report.notes.includes('KVM IPA limit: 44 bits of guest physical address space.'));
  }));

test('arm64: kvm-arm.mode=none on the kernel command line fails', () =>
  withTree('arm64', async (tree) => {
    tree.write('/proc/cmdline', 'root=/dev/vda1 kvm-arm.mode=none\n');
    const report = await tree.check();
    const mode = finding(report, 'kvm.arm-mode');
    assert.equal(mode.status, 'fail');
    assert.match(mode.hint ?? '', /remove kvm-arm.mode=none/);
  }));

test('arm64: no /dev/kvm fails with the EL2 hint', () =>
  withTree('arm64', async (tree) => {
    tree.remove('/dev/kvm').fixture({ kvmProbe: { kind: 'open-failed', errno: 'ENOENT' } });
    const report = await tree.check();
    assert.match(finding(report, 'kvm.device').hint ?? '', /EL2/);
    assert.equal(report.verdict, 'not-capable');
  }));

test('arm64: vhost_net missing blocks qemu only', () =>
  withTree('arm64', async (tree) => {
    tree.withoutModule('vhost_net').remove('/dev/vhost-net');
    const report = await tree.check();
    assert.deepEqual(finding(report, 'module.vhost_net').blocks, ['qemu']);
    assert.deepEqual(report.hypervisors.usable, ['clh', 'dragonball', 'firecracker']);
  }));

test('kata-ctl gap (ppc64le has no checks): POWER9 passes without an SMT requirement', () =>
  withTree('ppc64le-power9', async (tree) => {
    const report = await tree.check();
    assert.equal(report.verdict, 'capable');
    assert.equal(report.vendor, 'ibm');
    assert.equal(finding(report, 'cpu.power').message, 'POWER9 CPU');
    assert.equal(finding(report, 'module.kvm_hv').status, 'pass');
    assert.equal(
      report.checks.some((f) => f.id === 'cpu.smt'),
      false,
      'SMT is on in this tree and POWER9 does not care',
    );
  }));

test('ppc64le: POWER8 needs SMT off', () =>
  withTree('ppc64le-power8', async (tree) => {
    const off = await tree.check();
    assert.equal(finding(off, 'cpu.smt').status, 'pass');
    assert.equal(off.verdict, 'capable');
    tree.write('/sys/devices/system/cpu/smt/control', 'on\n');
    const on = await tree.check();
    const smt = finding(on, 'cpu.smt');
    assert.equal(smt.status, 'fail');
    assert.match(smt.hint ?? '', /ppc64_cpu --smt=off/);
    assert.equal(on.verdict, 'not-capable');
    tree.write('/sys/devices/system/cpu/smt/control', '1\n');
    assert.equal(finding(await tree.check(), 'cpu.smt').status, 'pass');
    tree.remove('/sys/devices/system/cpu/smt');
    const unknown = finding(await tree.check(), 'cpu.smt');
    assert.equal(unknown.status, 'warn');
    assert.match(unknown.hint ?? '', /ppc64_cpu --smt/);
  }));

test('ppc64le: an unrecognised CPU generation warns and still applies the SMT rule', () =>
  withTree('ppc64le-power9', async (tree) => {
    tree.edit('/proc/cpuinfo', (t) => t.replace(/POWER9/g, 'unknown'));
    const report = await tree.check();
    assert.equal(finding(report, 'cpu.power').status, 'warn');
    assert.equal(finding(report, 'cpu.smt').status, 'fail', 'this tree has SMT on');
  }));

test('ppc64le: kvm_hv missing fails with the modprobe hint', () =>
  withTree('ppc64le-power9', async (tree) => {
    tree.withoutModule('kvm_hv');
    const report = await tree.check();
    const hv = finding(report, 'module.kvm_hv');
    assert.equal(hv.status, 'fail');
    assert.match(hv.hint ?? '', /modprobe kvm_hv/);
  }));

test('kata-ctl gap (s390x only warns about sie): s390x passes with sie, fails without it', () =>
  withTree('s390x', async (tree) => {
    const report = await tree.check();
    assert.equal(report.verdict, 'capable');
    assert.equal(report.cpuModel, 'IBM Z machine 8561');
    assert.deepEqual(
      Object.entries(statuses(report)).filter(([, s]) => s !== 'pass'),
      [],
    );
    assert.equal(finding(report, 'cpu.flag.sie').status, 'pass');
    tree
      .withoutFlags('sie')
      .remove('/dev/kvm')
      .fixture({ kvmProbe: { kind: 'open-failed', errno: 'ENOENT' } });
    const noSie = await tree.check();
    assert.equal(finding(noSie, 'cpu.flag.sie').status, 'fail');
    assert.equal(noSie.verdict, 'not-capable');
  }));

test('s390x: sie hidden but the KVM probe works → capable with a WARN', () =>
  withTree('s390x', async (tree) => {
    const report = await tree.withoutFlags('sie').check();
    assert.equal(finding(report, 'cpu.flag.sie').status, 'warn');
    assert.equal(report.verdict, 'capable');
  }));

test('s390x: firecracker does not run there', () =>
  withTree('s390x', async (tree) => {
    const report = await tree.check({ hypervisor: 'firecracker' });
    const hv = finding(report, 'hypervisor');
    assert.equal(hv.status, 'fail');
    assert.match(hv.hint ?? '', /--hypervisor qemu/);
  }));

test('an unsupported architecture is not capable, and says which ones are', () =>
  withTree('arm64', async (tree) => {
    tree.write('/proc/sys/kernel/arch', 'riscv64\n');
    const report = await tree.check();
    assert.equal(report.arch, 'riscv64');
    assert.equal(finding(report, 'arch').status, 'fail');
    assert.equal(report.verdict, 'not-capable');
  }));

test('a missing /proc/cpuinfo fails the CPU check with the errno', () =>
  withTree('s390x', async (tree) => {
    tree.remove('/proc/cpuinfo');
    const report = await tree.check();
    assert.match(finding(report, 'cpu.info').message, /cannot read \/proc\/cpuinfo: ENOENT/);
    assert.equal(report.verdict, 'not-capable');
  }));

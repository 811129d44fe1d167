import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Tree } from '../../test/fixtures/host/tree.js';
import {
  gatherFacts,
  parseKernelConfig,
  parseModuleList,
  parseProcModules,
  type HostFacts,
} from './facts.js';
import { fixtureHostFacts } from './host.js';
import type { KvmProbeResult, Read } from './types.js';

test('parseProcModules takes the first column', () => {
  assert.deepEqual(parseProcModules('kvm_intel 479232 0 - Live 0x0\nkvm 1437696 1 kvm_intel, Live 0x0\n\n'), [
    'kvm_intel',
    'kvm',
  ]);
});

test('parseModuleList reads modules.builtin and modules.dep paths, with dashes as underscores', () => {
  assert.deepEqual(
    parseModuleList(
      'kernel/arch/x86/kvm/kvm-intel.ko.zst\nkernel/drivers/vhost/vhost_net.ko\nkernel/fs/ext4/ext4.ko.xz\n',
    ),
    ['kvm_intel', 'vhost_net', 'ext4'],
  );
});

test('parseKernelConfig reads set and unset symbols', () => {
  const config = parseKernelConfig(
    'CONFIG_KVM=y\n# CONFIG_KVM_AMD is not set\nCONFIG_VHOST_NET=m\n# comment\n',
  );
  assert.deepEqual(
    [...config],
    [
      ['KVM', 'y'],
      ['KVM_AMD', 'n'],
      ['VHOST_NET', 'm'],
    ],
  );
});

function fakeHost(
  overrides: Partial<HostFacts> & { files?: Record<string, string> },
): HostFacts & { calls: string[] } {
  const calls: string[] = [];
  const files = overrides.files ?? {};
  return {
    root: '/fake',
    calls,
    readText: (p: string): Read<string> =>
      p in files ? { ok: true, value: files[p]! } : { ok: false, code: 'ENOENT' },
    listDir: (): Read<string[]> => ({ ok: false, code: 'ENOENT' }),
    exists: () => false,
    euid: () => 1000,
    machine: () => 'x86_64',
    kvmProbe: (): Promise<KvmProbeResult> => {
      calls.push('probe');
      return Promise.resolve({ kind: 'open-failed', errno: 'EACCES' });
    },
    fetchReleases: () => {
      calls.push('fetch');
      return Promise.resolve({ kind: 'ok', releases: [] });
    },
    ...overrides,
  };
}

test('gatherFacts: EACCES for a non-root user means the probe did not run; for root it is a failure', async () => {
  const user = await gatherFacts(fakeHost({}), { probeKvm: true });
  assert.equal(user.kvmProbe.kind, 'not-run');
  const root = await gatherFacts(fakeHost({ euid: () => 0 }), { probeKvm: true });
  assert.deepEqual(root.kvmProbe, { kind: 'open-failed', errno: 'EACCES' });
});

test('gatherFacts: remote skips the probe, and a skipped release check never touches the network', async () => {
  const host = fakeHost({});
  const facts = await gatherFacts(host, { probeKvm: false, skipReleaseCheck: '--no-network-checks' });
  assert.deepEqual(host.calls, []);
  assert.deepEqual(facts.release, { kind: 'skipped', reason: '--no-network-checks' });
  assert.equal(facts.kvmProbe.kind, 'not-run');
});

test('gatherFacts: the architecture comes from /proc/sys/kernel/arch, else from the reader', async () => {
  const fromFile = await gatherFacts(fakeHost({ files: { '/proc/sys/kernel/arch': 's390x\n' } }), {
    probeKvm: true,
  });
  assert.equal(fromFile.arch, 's390x');
  const fallback = await gatherFacts(fakeHost({ machine: () => 'aarch64' }), { probeKvm: true });
  assert.equal(fallback.arch, 'arm64');
  const unknown = await gatherFacts(fakeHost({ machine: () => 'mips' }), { probeKvm: true });
  assert.equal(unknown.arch, undefined);
  assert.equal(unknown.kvmProbe.kind, 'not-run');
});

test('gatherFacts: /proc/config.gz is inflated and preferred over /boot/config-<release>', async () => {
  const tree = new Tree('amd-nested-pvm');
  try {
    writeFileSync(`${tree.root}/proc/config.gz`, gzipSync('CONFIG_VHOST_VSOCK=m\n'));
    const facts = await gatherFacts(fixtureHostFacts(tree.root), { probeKvm: true });
    assert.equal(facts.modules.kernelConfig?.get('VHOST_VSOCK'), 'm');
    assert.equal(facts.modules.kernelConfig?.get('KVM_PVM'), undefined, '/boot config not read');
    assert.equal(facts.modules.loaded, undefined, 'no /proc/modules in this tree');
    assert.ok(facts.modules.sysfs?.has('kvm_pvm'));
  } finally {
    tree.dispose();
  }
});

test('fixtureHostFacts refuses a malformed fixture record with a usage error', () => {
  const tree = new Tree('arm64');
  try {
    tree.write('/kata-check-fixture.json', '{"kvmProbe": {"kind": "maybe"}}');
    assert.throws(() => fixtureHostFacts(tree.root), { name: 'UsageError' });
    tree.write('/kata-check-fixture.json', '{');
    assert.throws(() => fixtureHostFacts(tree.root), { name: 'UsageError' });
  } finally {
    tree.dispose();
  }
});

test('a fixture cannot make the reader leave its root (a kernel release with ..)', async () => {
  const tree = new Tree('intel-bare-metal');
  const outside = mkdtempSync(join(tmpdir(), 'kata-check-outside-'));
  try {
    writeFileSync(join(outside, 'modules.dep'), 'kernel/drivers/evil.ko:\n');
    // <root>/lib/modules/../../../<outside> is <outside> when joined naively.
    tree.write('/proc/sys/kernel/osrelease', `../../../${basename(outside)}\n`);
    const facts = await gatherFacts(fixtureHostFacts(tree.root), { probeKvm: true });
    assert.equal(facts.modules.onDisk, undefined);
  } finally {
    tree.dispose();
    rmSync(outside, { recursive: true, force: true });
  }
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadSettings } from './load.js';
import { UsageError } from '../errors/index.js';
import { INVALID_BASE_ENV, INVALID_ENV } from './invalid-examples.js';

const base = { NODE_NAME: 'node-1' };
const load = (env: Record<string, string>, flags = {}) =>
  loadSettings({ env: { ...base, ...env }, flags, arch: 'x86_64' });

describe('loadSettings', () => {
  it('applies upstream defaults', () => {
    const s = load({});
    assert.equal(s.nodeName, 'node-1');
    assert.equal(s.debug, false);
    assert.equal(s.shims.length, 20);
    assert.equal(s.defaultShim, 'qemu-runtime-rs');
    assert.equal(s.containerdConfigFileName, 'config.toml');
    assert.equal(s.hostRoot, '/');
    assert.equal(s.serviceManager, 'systemd');
    assert.equal(s.multiInstallSuffix, undefined);
    assert.ok(Object.isFrozen(s) && Object.isFrozen(s.shims));
  });

  it('reads per-architecture variables only with the suffix', () => {
    const s = loadSettings({ env: { ...base, SHIMS: 'clh', SHIMS_AARCH64: 'qemu clh' }, arch: 'aarch64' });
    assert.deepEqual(s.shims, ['qemu', 'clh']);
    assert.equal(s.defaultShim, 'qemu');
  });

  it('treats empty values as unset and normalises', () => {
    const s = load({ MULTI_INSTALL_SUFFIX: ' ', INSTALLATION_PREFIX: '/host/pre/', DEBUG: '1' });
    assert.equal(s.multiInstallSuffix, undefined);
    assert.equal(s.installationPrefix, '/host/pre');
    assert.equal(s.debug, true);
  });

  it('parses mappings, annotations and proxies', () => {
    const s = load({
      SHIMS_X86_64: 'qemu clh qemu-snp',
      DEFAULT_SHIM_X86_64: 'qemu',
      SNAPSHOTTER_HANDLER_MAPPING_X86_64: 'qemu-snp:nydus, clh:overlayfs',
      ALLOWED_HYPERVISOR_ANNOTATIONS_X86_64: 'default_vcpus qemu:enable_iommu,default_memory',
      AGENT_HTTPS_PROXY: 'qemu=http://p:3128;clh=http://q:3128',
      AGENT_NO_PROXY: 'localhost,10.0.0.0/8',
      EXPERIMENTAL_FORCE_GUEST_PULL_X86_64: 'qemu-snp',
    });
    assert.equal(s.snapshotterMapping.get('qemu-snp'), 'nydus');
    assert.deepEqual(s.hypervisorAnnotations.get('qemu'), [
      'default_memory',
      'default_vcpus',
      'enable_iommu',
    ]);
    assert.deepEqual(s.hypervisorAnnotations.get('clh'), ['default_vcpus']);
    assert.equal(s.agentHttpsProxy?.kind, 'perShim');
    assert.deepEqual(s.agentNoProxy, { kind: 'global', value: 'localhost,10.0.0.0/8' });
    assert.deepEqual(s.forceGuestPull, ['qemu-snp']);
  });

  for (const [name, value] of INVALID_ENV) {
    it(`refuses ${name}=${JSON.stringify(value)}`, () => {
      const env = { ...INVALID_BASE_ENV, [name]: value };
      assert.throws(
        () => load(env),
        (e: unknown) => {
          assert.ok(e instanceof UsageError);
          assert.equal(e.exitCode, 2);
          assert.equal(e.input, name);
          assert.ok(
            e.message.startsWith(`${name}=${JSON.stringify(value)} is not valid: expected `),
            e.message,
          );
          return true;
        },
      );
    });
  }

  it('refuses a missing NODE_NAME and bad flags', () => {
    assert.throws(() => loadSettings({ env: {}, arch: 'x86_64' }), /NODE_NAME=unset is not valid/);
    assert.throws(() => load({}, { hostRoot: 'rel' }), /--host-root="rel"/);
    assert.throws(() => load({}, { runtime: 'crio' }), /CRI-O is not supported yet/);
    assert.throws(() => load({}, { serviceManager: 'openrc' }), /--service-manager/);
    assert.throws(
      () => load({ K8S_DISTRIBUTION: 'k3s' }, { runtime: 'containerd' }),
      /K8S_DISTRIBUTION="k3s"/,
    );
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadSettings } from './load.js';
import { quoteValue, UsageError } from '../errors/index.js';
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
    it(`refuses ${name}=${quoteValue(value, 40)}`, () => {
      const env = { ...INVALID_BASE_ENV, [name]: value };
      assert.throws(
        () => load(env),
        (e: unknown) => {
          assert.ok(e instanceof UsageError);
          assert.equal(e.exitCode, 2);
          assert.equal(e.input, name);
          assert.ok(e.message.startsWith(`${name}=${quoteValue(value)} is not valid: expected `), e.message);
          // A value is echoed cut to a readable length, whatever its size.
          assert.ok(e.message.length < 2000, `${e.message.length} characters`);
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

  it('reads --restart-timeout in the duration forms --timeout takes', () => {
    assert.equal(load({}).restartTimeoutMs, 60_000);
    for (const [raw, ms] of [
      ['5000', 5000],
      ['1500ms', 1500],
      ['5s', 5000],
      ['1.5s', 1500],
      ['2m', 120_000],
      [' 30s ', 30_000],
      ['24h'.replace('24h', '1440m'), 86_400_000],
    ] as const) {
      assert.equal(load({}, { restartTimeout: raw }).restartTimeoutMs, ms, raw);
    }
    for (const raw of ['abc', '999', '500ms', '0.5s', '5 s', '-5s', '1e4', '1441m', '5h', '1.5', '0.0001m']) {
      assert.throws(
        () => load({}, { restartTimeout: raw }),
        (e: unknown) =>
          e instanceof UsageError &&
          e.input === '--restart-timeout' &&
          e.message ===
            `--restart-timeout=${quoteValue(raw)} is not valid: expected a duration from 1s to 24h: whole milliseconds (1500) or a number with ms, s or m (500ms, 1.5s, 2m)`,
        raw,
      );
    }
  });

  it('accepts the containerd releases kata-deploy configures, and no others', () => {
    for (const raw of [
      'containerd://1.6.20',
      'containerd://1.7',
      'containerd://v2.1.5-k3s1',
      'containerd://2.0.0+rc.1',
      'containerd://1.6.20~ds1',
    ]) {
      assert.equal(load({ CONTAINER_RUNTIME_VERSION: raw }).containerRuntimeVersion?.raw, raw);
    }
    const v = load({ CONTAINER_RUNTIME_VERSION: 'containerd://2.1' }).containerRuntimeVersion;
    assert.deepEqual(v, { runtime: 'containerd', major: 2, minor: 1, patch: 0, raw: 'containerd://2.1' });
    assert.throws(
      () => load({ CONTAINER_RUNTIME_VERSION: 'containerd://1.5.0' }),
      /expected containerd:\/\/<major>\.<minor>\[\.<patch>\]\[-extra\] of containerd 1\.6, 1\.7 or 2\.x/,
    );
    assert.throws(() => load({ CONTAINER_RUNTIME_VERSION: 'cri-o://1.30.0' }), /CRI-O and other runtimes/);
    assert.throws(
      () => load({ CONTAINER_RUNTIME_VERSION: 'containerd://99999999999999999999.1' }),
      /each number below 2\^53/,
    );
  });

  it('refuses a proxy value with a control character, over the length cap, or a shim named twice', () => {
    const long = `http://${'p'.repeat(1017)}`; // 1024 characters
    assert.deepEqual(load({ AGENT_HTTPS_PROXY: long }).agentHttpsProxy, { kind: 'global', value: long });
    assert.throws(() => load({ AGENT_HTTPS_PROXY: `${long}x` }), /at most 1024 characters/);
    assert.throws(() => load({ AGENT_HTTPS_PROXY: 'http://p:3128\u0085' }), /"http:\/\/p:3128\\u0085"/);
    assert.throws(
      () =>
        load({
          SHIMS_X86_64: 'qemu clh',
          AGENT_HTTPS_PROXY: 'qemu=http://a:1;clh=http://c:1;qemu=http://b:2',
        }),
      (e: unknown) =>
        e instanceof UsageError && e.input === 'AGENT_HTTPS_PROXY' && /"qemu" appears twice/.test(e.message),
    );
  });

  it('echoes a 100k-character value as its first 200 characters and its length', () => {
    const value = `http://${'p'.repeat(100_000)}`;
    assert.throws(
      () => load({ AGENT_HTTPS_PROXY: value }),
      (e: unknown) => {
        assert.ok(e instanceof UsageError);
        assert.ok(
          e.message.startsWith(
            `AGENT_HTTPS_PROXY="${value.slice(0, 200)}…" (100007 characters) is not valid`,
          ),
          e.message.slice(0, 300),
        );
        assert.ok(e.message.length < 600, String(e.message.length));
        return true;
      },
    );
  });
});

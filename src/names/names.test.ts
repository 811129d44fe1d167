import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadSettings } from '../settings/index.js';
import { deriveNames } from './names.js';

const settings = (env: Record<string, string> = {}) =>
  loadSettings({ env: { NODE_NAME: 'n', SHIMS_X86_64: 'qemu qemu-runtime-rs clh', ...env }, arch: 'x86_64' });

describe('deriveNames', () => {
  it('derives the default layout', () => {
    const n = deriveNames(settings(), 'containerd');
    assert.equal(n.installDir, '/opt/kata');
    assert.deepEqual(
      n.handlers.map((h) => h.handler),
      ['kata-qemu', 'kata-qemu-runtime-rs', 'kata-clh'],
    );
    const [qemu, rs] = n.handlers;
    assert.equal(qemu?.runtimePath, '/opt/kata/bin/containerd-shim-kata-v2');
    assert.equal(
      qemu?.configFile,
      '/opt/kata/share/defaults/kata-containers/runtimes/qemu/configuration-qemu.toml',
    );
    assert.equal(qemu?.baseConfigFile, '/opt/kata/share/defaults/kata-containers/configuration-qemu.toml');
    assert.equal(qemu?.symlinkTarget, 'runtimes/qemu/configuration-qemu.toml');
    assert.equal(rs?.runtimePath, '/opt/kata/runtime-rs/bin/containerd-shim-kata-v2');
    assert.equal(
      rs?.configFile,
      '/opt/kata/share/defaults/kata-containers/runtime-rs/runtimes/qemu-runtime-rs/configuration-qemu-runtime-rs.toml',
    );
    assert.equal(rs?.runtimeType, 'io.containerd.kata-qemu-runtime-rs.v2');
    assert.equal(n.containerd.configFile, '/etc/containerd/config.toml');
    assert.equal(n.containerd.installDropIn, '/opt/kata/containerd/config.d/kata-deploy.toml');
    assert.equal(n.containerd.confDDropIn, '/etc/containerd/conf.d/kata-deploy.toml');
    assert.equal(n.containerd.unit, 'containerd.service');
    assert.equal(n.nydus.socket, '/run/nydus-for-kata-tee/containerd-nydus-grpc.sock');
  });

  it('applies suffix and prefix everywhere', () => {
    const n = deriveNames(
      settings({
        MULTI_INSTALL_SUFFIX: 'coco',
        INSTALLATION_PREFIX: '/usr/local',
        SNAPSHOTTER_HANDLER_MAPPING_X86_64: 'qemu:nydus,clh:overlayfs',
        DEBUG: 'true',
      }),
      'k3s-agent',
    );
    assert.equal(n.installDir, '/usr/local/opt/kata-coco');
    assert.deepEqual(
      n.handlers.map((h) => h.handler),
      [
        'kata-qemu-coco',
        'kata-qemu-coco-debug',
        'kata-qemu-runtime-rs-coco',
        'kata-qemu-runtime-rs-coco-debug',
        'kata-clh-coco',
        'kata-clh-coco-debug',
      ],
    );
    assert.equal(n.handlers[0]?.snapshotter, 'nydus-for-kata-tee-coco');
    assert.equal(n.handlers[4]?.snapshotter, 'overlayfs');
    assert.equal(
      n.handlers[1]?.configFile,
      '/usr/local/opt/kata-coco/share/defaults/kata-containers/custom-runtimes/kata-qemu-coco-debug/configuration-qemu.toml',
    );
    assert.equal(n.handlers[1]?.symlinkTarget, undefined);
    assert.equal(n.nydus.dataDir, '/var/lib/nydus-for-kata-tee-coco');
    assert.equal(n.nydus.unit, 'nydus-for-kata-tee-coco.service');
    assert.equal(n.stateFile, '/var/lib/kata-deploy/install-coco.json');
    assert.equal(
      n.containerd.distroDropIns?.v3,
      '/var/lib/rancher/k3s/agent/etc/containerd/config-v3.toml.d/kata-deploy-coco.toml',
    );
    assert.equal(n.containerd.socket, '/run/k3s/containerd/containerd.sock');
    assert.equal(n.containerd.unit, 'k3s-agent.service');
  });

  it('knows k0s and microk8s', () => {
    const k0s = deriveNames(settings(), 'k0s-worker').containerd;
    assert.equal(k0s.distroDropIns?.v3, '/etc/k0s/containerd.d/kata-deploy.toml');
    assert.equal(k0s.unit, undefined);
    const mk = deriveNames(settings({ CONTAINERD_CONFIG_FILE_NAME: 'ignored.toml' }), 'microk8s').containerd;
    assert.equal(mk.configFile, '/var/snap/microk8s/current/args/containerd-template.toml');
    assert.equal(mk.socket, '/var/snap/microk8s/common/run/containerd.sock');
    const custom = deriveNames(
      settings({ CONTAINERD_CONFIG_FILE_NAME: 'other.toml' }),
      'containerd',
    ).containerd;
    assert.equal(custom.configFile, '/etc/containerd/other.toml');
    assert.equal(custom.backupFile, '/etc/containerd/other.toml.kata-deploy.bak');
  });
});

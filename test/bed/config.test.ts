import assert from 'node:assert/strict';
import { test } from 'node:test';
import { containerdConfig, disabledPlugins, nydusConfig, type ContainerdConfigInput } from './config.js';

const base: ContainerdConfigInput = {
  version: '1.6',
  root: '/tmp/kd-x/root',
  state: '/tmp/kd-x/state',
  grpcSocket: '/tmp/kd-x/containerd.sock',
  ttrpcSocket: '/tmp/kd-x/containerd.sock.ttrpc',
  debugSocket: '/tmp/kd-x/debug.sock',
  optDir: '/tmp/kd-x/opt',
  cri: false,
};

test('config version 2 for 1.x and 3 for 2.1', () => {
  assert.match(containerdConfig(base), /^version = 2\n/);
  assert.match(containerdConfig({ ...base, version: '1.7' }), /^version = 2\n/);
  assert.match(containerdConfig({ ...base, version: '2.1' }), /^version = 3\n/);
});

test('CRI plugins are disabled unless asked for; NRI always', () => {
  assert.deepEqual(disabledPlugins('1.6', false), ['io.containerd.grpc.v1.cri', 'io.containerd.nri.v1.nri']);
  assert.deepEqual(disabledPlugins('2.1', false), [
    'io.containerd.grpc.v1.cri',
    'io.containerd.cri.v1.images',
    'io.containerd.cri.v1.runtime',
    'io.containerd.nri.v1.nri',
  ]);
  assert.deepEqual(disabledPlugins('2.1', true), ['io.containerd.nri.v1.nri']);
});

test('every host path of containerd points into the bed', () => {
  const text = containerdConfig({ ...base, nydusSocket: '/tmp/kd-x/nydus.sock' });
  assert.match(text, /^root = "\/tmp\/kd-x\/root"$/m);
  assert.match(text, /^state = "\/tmp\/kd-x\/state"$/m);
  assert.match(text, /\[grpc\]\n {2}address = "\/tmp\/kd-x\/containerd.sock"/);
  assert.match(text, /\[ttrpc\]\n {2}address = "\/tmp\/kd-x\/containerd.sock.ttrpc"/);
  assert.match(text, /\[debug\]\n {2}address = "\/tmp\/kd-x\/debug.sock"/);
  assert.match(text, /\[plugins."io.containerd.internal.v1.opt"\]\n {2}path = "\/tmp\/kd-x\/opt"/);
  assert.match(
    text,
    /\[proxy_plugins.nydus\]\n {2}type = "snapshot"\n {2}address = "\/tmp\/kd-x\/nydus.sock"/,
  );
  assert.doesNotMatch(containerdConfig(base), /proxy_plugins/);
});

test('with CRI, the CNI dirs go into the bed under the plugin of that version', () => {
  const cni = { cri: true, cniConfDir: '/b/cni/net.d', cniBinDir: '/b/cni/bin' };
  assert.match(
    containerdConfig({ ...base, ...cni }),
    /\[plugins."io.containerd.grpc.v1.cri".cni\]\n {2}conf_dir = "\/b\/cni\/net.d"\n {2}bin_dir = "\/b\/cni\/bin"/,
  );
  assert.match(
    containerdConfig({ ...base, version: '2.1', ...cni }),
    /\[plugins."io.containerd.cri.v1.runtime".cni\]/,
  );
});

test('extraConfig is appended last', () => {
  const text = containerdConfig({ ...base, extraConfig: '[plugins.x]\n  y = 1\n\n' });
  assert.ok(text.endsWith('\n[plugins.x]\n  y = 1\n'));
});

test('nydus config is Kata guest-pull: proxy driver, kata volumes, overlayfs helper', () => {
  const text = nydusConfig({
    dataDir: '/b/nydus',
    socket: '/b/nydus.sock',
    overlayfsPath: '/c/nydus-overlayfs',
  });
  assert.equal(
    text,
    [
      'version = 1',
      'root = "/b/nydus"',
      'address = "/b/nydus.sock"',
      '',
      '[daemon]',
      'fs_driver = "proxy"',
      '',
      '[snapshot]',
      'enable_kata_volume = true',
      'nydus_overlayfs_path = "/c/nydus-overlayfs"',
      '',
    ].join('\n'),
  );
});

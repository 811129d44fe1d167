import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { containerdRootOfRuntime } from './runtime-root.js';

async function node(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'kd-runtime-root-'));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}

async function rootOf(
  files: Record<string, string>,
  runtime: Parameters<typeof containerdRootOfRuntime>[0],
  config: string,
) {
  const host = await node(files);
  try {
    return await containerdRootOfRuntime(runtime, config, host);
  } finally {
    await rm(host, { recursive: true, force: true });
  }
}

const CONFIG = '/etc/containerd/config.toml';
const K3S_CONFIG = '/var/lib/rancher/k3s/agent/etc/containerd/config.toml';

describe("containerd's root as the runtime starts it", () => {
  it('vanilla: --root in the unit, else root in the config, else the built-in default only with the unit seen', async () => {
    const unit = '/lib/systemd/system/containerd.service';
    assert.deepEqual(
      await rootOf(
        { [unit]: '[Service]\nExecStart=/usr/bin/containerd --root /data/ctd\n', [CONFIG]: 'root = "/x"\n' },
        'containerd',
        CONFIG,
      ),
      { found: true, root: '/data/ctd', how: `--root in the ExecStart of ${unit}` },
    );
    const fromConfig = await rootOf({ [CONFIG]: 'version = 2\nroot = "/srv/c"\n' }, 'containerd', CONFIG);
    assert.deepEqual(fromConfig, { found: true, root: '/srv/c', how: `root in ${CONFIG}` });
    const byDefault = await rootOf(
      { [unit]: '[Service]\nExecStart=/usr/bin/containerd\n' },
      'containerd',
      CONFIG,
    );
    assert.equal(byDefault.found && byDefault.root, '/var/lib/containerd');
    const unitConfig = await rootOf(
      {
        [unit]: '[Service]\nExecStart=/usr/bin/containerd -c /etc/other.toml\n',
        '/etc/other.toml': 'root = "/o"\n',
      },
      'containerd',
      CONFIG,
    );
    assert.equal(
      unitConfig.found && unitConfig.root,
      '/o',
      "the unit's --config is the file containerd reads",
    );
    const nothing = await rootOf({ [CONFIG]: 'version = 2\n' }, 'containerd', CONFIG);
    assert.equal(nothing.found, false, 'no unit and no root in the config: not found, never defaulted');
  });

  it('k3s and rke2: <data-dir>/agent/containerd from the unit flag, its environment, config.yaml or the default', async () => {
    const unit = '/etc/systemd/system/k3s.service';
    const flag = await rootOf(
      { [unit]: '[Service]\nExecStart=/usr/local/bin/k3s server --data-dir /srv/k3s\n' },
      'k3s',
      K3S_CONFIG,
    );
    assert.equal(flag.found && flag.root, '/srv/k3s/agent/containerd');
    const env = await rootOf(
      {
        [unit]:
          '[Service]\nEnvironmentFile=-/etc/systemd/system/k3s.service.env\nExecStart=/usr/local/bin/k3s server\n',
        '/etc/systemd/system/k3s.service.env': 'K3S_DATA_DIR=/env/k3s\n',
      },
      'k3s',
      K3S_CONFIG,
    );
    assert.equal(env.found && env.root, '/env/k3s/agent/containerd');
    const yaml = await rootOf(
      {
        [unit]: '[Service]\nExecStart=/usr/local/bin/k3s server\n',
        '/etc/rancher/k3s/config.yaml.d/10.yaml': 'data-dir: /yaml/k3s\n',
      },
      'k3s',
      K3S_CONFIG,
    );
    assert.equal(yaml.found && yaml.root, '/yaml/k3s/agent/containerd');
    const byDefault = await rootOf(
      { '/etc/systemd/system/rke2-agent.service': '[Service]\nExecStart=/usr/bin/rke2 agent\n' },
      'rke2-agent',
      K3S_CONFIG,
    );
    assert.equal(byDefault.found && byDefault.root, '/var/lib/rancher/rke2/agent/containerd');
    const rendered = await rootOf(
      { [K3S_CONFIG]: 'version = 3\nroot = "/var/lib/rancher/k3s/agent/containerd"\n' },
      'k3s-agent',
      K3S_CONFIG,
    );
    assert.equal(
      rendered.found && rendered.root,
      '/var/lib/rancher/k3s/agent/containerd',
      'the rendered config names it',
    );
    assert.equal((await rootOf({}, 'k3s', K3S_CONFIG)).found, false);
  });

  it('k0s: <data-dir>/containerd from its unit; microk8s: --root in its args file', async () => {
    const k0s = await rootOf(
      {
        '/etc/systemd/system/k0sworker.service':
          '[Service]\nExecStart=/usr/local/bin/k0s worker --data-dir=/srv/k0s\n',
      },
      'k0s-worker',
      '/etc/k0s/containerd.toml',
    );
    assert.equal(k0s.found && k0s.root, '/srv/k0s/containerd');
    const k0sDefault = await rootOf(
      {
        '/etc/systemd/system/k0scontroller.service':
          '[Service]\nExecStart=/usr/local/bin/k0s controller --enable-worker\n',
      },
      'k0s-controller',
      '/etc/k0s/containerd.toml',
    );
    assert.equal(k0sDefault.found && k0sDefault.root, '/var/lib/k0s/containerd');
    assert.equal(
      (
        await rootOf(
          { '/etc/k0s/containerd.toml': 'root = "/x"\n' },
          'k0s-worker',
          '/etc/k0s/containerd.toml',
        )
      ).found,
      false,
    );
    const microk8s = await rootOf(
      {
        '/var/snap/microk8s/current/args/containerd':
          '--config ${SNAP_DATA}/args/containerd.toml\n--root ${SNAP_COMMON}/var/lib/containerd\n',
      },
      'microk8s',
      '/var/snap/microk8s/current/args/containerd-template.toml',
    );
    assert.equal(microk8s.found && microk8s.root, '/var/snap/microk8s/common/var/lib/containerd');
    assert.equal((await rootOf({}, 'microk8s', '/x')).found, false);
  });
});

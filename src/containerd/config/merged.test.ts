import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../errors/errors.js';
import { readMergedContainerdConfig } from './merged.js';

describe("containerd's config as containerd merges it", () => {
  it('follows imports breadth first under the host root; the last root wins; cycles end', async () => {
    const host = await mkdtemp(join(tmpdir(), 'kd-merged-'));
    try {
      await mkdir(join(host, 'etc/containerd/conf.d'), { recursive: true });
      const config = '/etc/containerd/config.toml';
      await writeFile(
        join(host, config),
        'version = 3\nroot = "/from/main"\nimports = ["/etc/containerd/conf.d/*.toml", "late.toml"]\n' +
          '[proxy_plugins.nydus]\ntype = "snapshot"\naddress = "/run/old.sock"\n',
      );
      await writeFile(join(host, 'etc/containerd/conf.d/10-root.toml'), 'root = "/from/drop-in"\n');
      await writeFile(
        join(host, 'etc/containerd/conf.d/20-other.toml'),
        'imports = ["/etc/containerd/config.toml"]\n[proxy_plugins.nydus]\ntype = "snapshot"\n' +
          'address = "/run/nydus.sock"\n[proxy_plugins.nydus.exports]\nroot = "/var/lib/nydus"\n',
      );
      let merged = await readMergedContainerdConfig(config, host);
      assert.deepEqual(merged.root, { value: '/from/drop-in', file: '/etc/containerd/conf.d/10-root.toml' });
      assert.deepEqual(merged.proxyPlugins.get('nydus'), {
        type: 'snapshot',
        address: '/run/nydus.sock',
        root: '/var/lib/nydus',
        file: '/etc/containerd/conf.d/20-other.toml',
      });
      assert.equal(merged.mainExists, true);
      await writeFile(join(host, 'etc/containerd/late.toml'), 'root = "/from/late"\n');
      merged = await readMergedContainerdConfig(config, host);
      assert.equal(merged.root?.value, '/from/late');
      await writeFile(join(host, 'etc/containerd/late.toml'), 'root = \n');
      await assert.rejects(
        readMergedContainerdConfig(config, host),
        (e: unknown) => e instanceof UsageError && e.message.includes('late.toml is not valid TOML'),
      );
      await writeFile(join(host, 'etc/containerd/late.toml'), 'root = 3\n');
      await assert.rejects(readMergedContainerdConfig(config, host), /"root" must be a non-empty string/);
      const missing = await readMergedContainerdConfig('/etc/containerd/nope.toml', host);
      assert.equal(missing.mainExists, false);
      assert.equal(missing.root, undefined);
    } finally {
      await rm(host, { recursive: true, force: true });
    }
  });
});

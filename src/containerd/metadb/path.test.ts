import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { UsageError } from '../../errors/errors.js';
import { containerdRootFromConfig, defaultMetaDbPath, findMetaDbPath, resolveImports } from './path.js';

describe('meta.db path', () => {
  it('lives under the metadata plugin dir of the root', () => {
    assert.equal(defaultMetaDbPath(), '/var/lib/containerd/io.containerd.metadata.v1.bolt/meta.db');
    assert.equal(defaultMetaDbPath('/srv/ctd'), '/srv/ctd/io.containerd.metadata.v1.bolt/meta.db');
  });

  it('reads root from v2 and v3 configs, and nothing when it is not set', () => {
    assert.equal(
      containerdRootFromConfig('version = 2\nroot = "/data/containerd"\n[grpc]\naddress = "/x.sock"\n'),
      '/data/containerd',
    );
    assert.equal(containerdRootFromConfig("version = 3\nroot = '/r'\n"), '/r');
    assert.equal(containerdRootFromConfig('version = 2\n[plugins]\n'), undefined);
  });

  it('rejects invalid TOML and a root that is not a string, naming the file', () => {
    assert.throws(
      () => containerdRootFromConfig('root = ', '/etc/c.toml'),
      (e: unknown) => e instanceof UsageError && e.message.startsWith('/etc/c.toml is not valid TOML'),
    );
    assert.throws(
      () => containerdRootFromConfig('root = 3', '/etc/c.toml'),
      /"root" must be a non-empty string/,
    );
  });

  it('prefers the flag, then introspection, then the config, then the default root', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'metadb-path-'));
    try {
      const config = join(dir, 'config.toml');
      await writeFile(config, 'version = 2\nroot = "/from/config"\n');
      assert.deepEqual(
        await findMetaDbPath({ metaDbPath: '/flag.db', introspectionPath: '/i.db', configPath: config }),
        { path: '/flag.db', source: 'flag' },
      );
      assert.deepEqual(await findMetaDbPath({ introspectionPath: '/i.db', configPath: config }), {
        path: '/i.db',
        source: 'introspection',
      });
      assert.deepEqual(await findMetaDbPath({ configPath: config }), {
        path: '/from/config/io.containerd.metadata.v1.bolt/meta.db',
        source: 'config',
      });
      assert.deepEqual(await findMetaDbPath({ configPath: join(dir, 'missing.toml') }), {
        path: defaultMetaDbPath(),
        source: 'default',
      });
      await writeFile(config, 'version = 2\n');
      assert.deepEqual(await findMetaDbPath({ configPath: config }), {
        path: defaultMetaDbPath(),
        source: 'default',
      });
      assert.deepEqual(await findMetaDbPath(), { path: defaultMetaDbPath(), source: 'default' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('resolves imports as containerd does: globs in the file name, relative paths against the importer', async () => {
    const listed: string[] = [];
    const list = async (dir: string) => {
      listed.push(dir);
      return dir === '/etc/containerd/conf.d' ? ['b.toml', 'a.toml', 'a.toml.bak', 'notes.txt'] : [];
    };
    assert.deepEqual(
      await resolveImports(
        '/etc/containerd/config.toml',
        ['/etc/containerd/conf.d/*.toml', 'extra.toml', '/missing/*.toml', '/odd/*/x.toml'],
        list,
      ),
      ['/etc/containerd/conf.d/a.toml', '/etc/containerd/conf.d/b.toml', '/etc/containerd/extra.toml'],
    );
    assert.deepEqual(listed, ['/etc/containerd/conf.d', '/missing']);
  });

  it('follows imports breadth first under the host root; the last root wins; cycles end', async () => {
    const host = await mkdtemp(join(tmpdir(), 'metadb-imports-'));
    try {
      await mkdir(join(host, 'etc/containerd/conf.d'), { recursive: true });
      const config = join(host, 'etc/containerd/config.toml');
      await writeFile(
        config,
        'version = 3\nroot = "/from/main"\nimports = ["/etc/containerd/conf.d/*.toml", "late.toml"]\n',
      );
      await writeFile(join(host, 'etc/containerd/conf.d/10-root.toml'), 'root = "/from/drop-in"\n');
      await writeFile(
        join(host, 'etc/containerd/conf.d/20-other.toml'),
        'imports = ["/etc/containerd/config.toml"]\n',
      );
      assert.deepEqual(await findMetaDbPath({ configPath: config, hostRoot: host }), {
        path: '/from/drop-in/io.containerd.metadata.v1.bolt/meta.db',
        source: 'config',
      });
      await writeFile(join(host, 'etc/containerd/late.toml'), 'root = "/from/late"\n');
      assert.deepEqual(await findMetaDbPath({ configPath: config, hostRoot: host }), {
        path: '/from/late/io.containerd.metadata.v1.bolt/meta.db',
        source: 'config',
      });
      await writeFile(join(host, 'etc/containerd/late.toml'), 'root = \n');
      await assert.rejects(
        findMetaDbPath({ configPath: config, hostRoot: host }),
        (e: unknown) => e instanceof UsageError && e.message.includes('late.toml is not valid TOML'),
      );
    } finally {
      await rm(host, { recursive: true, force: true });
    }
  });
});

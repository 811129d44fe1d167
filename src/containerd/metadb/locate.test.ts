import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Plugin } from '../api/types.js';
import { locateMetaDb, metaDbUnder } from './locate.js';

const introspection = (path: string | undefined, fail = false) => ({
  introspection: {
    plugins: async (): Promise<Plugin[]> => {
      if (fail) throw new Error('deadline exceeded');
      return [
        {
          type: 'io.containerd.metadata.v1',
          id: 'bolt',
          requires: [],
          exports: path === undefined ? {} : { path },
          capabilities: [],
          initError: undefined,
        },
      ];
    },
  },
});

describe('the meta.db locator', () => {
  it('is seen only for a path a source named and that exists; never a default', async () => {
    const host = await mkdtemp(join(tmpdir(), 'kd-locate-'));
    const put = async (nodePath: string, text = '') => {
      await mkdir(dirname(join(host, nodePath)), { recursive: true });
      await writeFile(join(host, nodePath), text);
    };
    try {
      const db = metaDbUnder('/srv/ctd');
      await put(db);
      // --meta-db wins, and must be a file.
      const flag = await locateMetaDb({ flag: join(host, db), hostRoot: host });
      assert.deepEqual([flag.source, flag.evidence.status], ['flag', 'seen']);
      const badFlag = await locateMetaDb({ flag: join(host, 'nope'), hostRoot: host });
      assert.equal(badFlag.evidence.status, 'failed');
      // containerd's own answer, mapped under the host root.
      const reported = await locateMetaDb({ containerd: introspection(db), hostRoot: host });
      assert.deepEqual(
        [reported.path, reported.source, reported.evidence.status],
        [join(host, db), 'containerd', 'seen'],
      );
      // Nothing names it: not found, even though /var/lib/containerd's would be the usual default.
      await put(metaDbUnder('/var/lib/containerd'));
      const none = await locateMetaDb({ containerd: introspection(undefined, true), hostRoot: host });
      assert.equal(none.path, undefined);
      assert.equal(none.evidence.status, 'not-seen');
      assert.match(none.evidence.detail, /introspection failed: deadline exceeded/);
      assert.match(none.evidence.detail, /no containerd.service unit/);
      // The runtime's config names the root.
      await put('/etc/containerd/config.toml', 'version = 3\nroot = "/srv/ctd"\n');
      const fromConfig = await locateMetaDb({ hostRoot: host });
      assert.deepEqual(
        [fromConfig.path, fromConfig.source, fromConfig.evidence.status],
        [join(host, db), 'runtime', 'seen'],
      );
      // A root that was found but holds no meta.db is not "empty".
      await put('/etc/containerd/config.toml', 'version = 3\nroot = "/srv/elsewhere"\n');
      const noFile = await locateMetaDb({ hostRoot: host });
      assert.equal(noFile.evidence.status, 'not-seen');
      assert.match(noFile.evidence.detail, /is not a file/);
    } finally {
      await rm(host, { recursive: true, force: true });
    }
  });
});

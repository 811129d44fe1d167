import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tree, writeBolt } from '../containerd/metadb/testing/bolt-writer.js';
import { readBackendInventory } from './backend.js';

const at = (path: string) => ({ path, how: 'test' });

describe("the snapshotter's own inventory from disk", () => {
  it('a missing root is unknown, an empty one is a wiped store, one without metadata.db is not the store', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kd-backend-'));
    try {
      const missing = await readBackendInventory({ root: at(join(dir, 'does/not/exist')) });
      assert.equal(missing.known, false);
      assert.equal(missing.evidence.status, 'not-seen');
      assert.match(missing.known ? '' : missing.reason, /does not exist/);

      await mkdir(join(dir, 'wiped'));
      const wiped = await readBackendInventory({ root: at(join(dir, 'wiped')) });
      assert.ok(wiped.known && wiped.keys.size === 0);
      assert.equal(wiped.evidence.status, 'seen');

      await mkdir(join(dir, 'fresh/snapshots'), { recursive: true });
      const fresh = await readBackendInventory({ root: at(join(dir, 'fresh')) });
      assert.ok(fresh.known && fresh.keys.size === 0, 'a store never written to holds nothing');

      await mkdir(join(dir, 'other'));
      await writeFile(join(dir, 'other', 'notes.txt'), 'not a snapshotter');
      const other = await readBackendInventory({ root: at(join(dir, 'other')) });
      assert.equal(other.known, false, 'a directory with other files is not taken for an empty store');

      await mkdir(join(dir, 'store'));
      const snapshots = tree({ 'k8s.io/1/a': tree({ id: '1' }), 'k8s.io/2/b': tree({ id: '2' }) });
      await writeFile(join(dir, 'store', 'metadata.db'), writeBolt(tree({ v1: tree({ snapshots }) })).bytes);
      const store = await readBackendInventory({ root: at(join(dir, 'store')) });
      assert.deepEqual(store.known ? [...store.keys].sort() : [], ['k8s.io/1/a', 'k8s.io/2/b']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names the flag and the directory kata-deploy uses when nothing is known', async () => {
    const none = await readBackendInventory({
      hint: 'pass --snapshotter-root (kata-deploy sets up /var/lib/x)',
    });
    assert.equal(none.known, false);
    assert.match(
      none.known ? '' : none.reason,
      /neither its socket nor its data directory is known.*--snapshotter-root/,
    );
  });
});

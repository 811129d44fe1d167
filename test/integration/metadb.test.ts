// The meta.db reader against files written by real containerd 1.6, 1.7 and 2.1 (generated here, never
// committed): read while containerd runs and holds its flock, read while containerd commits, read after it
// stopped, and compare with what was created and with what containerd itself lists.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';

import { discoverPageSize, PGID_NO_FREELIST, validMetas } from '../../src/containerd/metadb/meta.js';
import { locateMetaDb } from '../../src/containerd/metadb/locate.js';
import {
  GC_REF_SNAPSHOT_PREFIX,
  readMetaDb,
  type MetaDbView,
  type NamespaceView,
} from '../../src/containerd/metadb/index.js';
import { ALL_VERSIONS, generateImage, withBed, type Bed, type GeneratedImage } from '../bed/index.js';

const READ_DEADLINE_MS = 10_000;
const LAYERS = 64;

/** Fails instead of hanging if a read ever waits on containerd's lock. */
async function readWithin(path: string): Promise<MetaDbView> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`reading ${path} took over ${READ_DEADLINE_MS} ms`)),
      READ_DEADLINE_MS,
    );
  });
  try {
    return await Promise.race([readMetaDb(path), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function namespace(view: MetaDbView, name: string): NamespaceView {
  const ns = view.namespaces.find((n) => n.name === name);
  assert.ok(ns, `namespace ${name} in ${view.namespaces.map((n) => n.name).join(', ')}`);
  return ns;
}

async function ctrKeys(bed: Bed): Promise<string[]> {
  const out = await bed.ctr(['snapshots', '--snapshotter', 'nydus', 'ls']);
  return out.stdout
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean)
    .sort();
}

/** Everything the test created, checked against a decoded view. */
function checkView(view: MetaDbView, bed: Bed, image: GeneratedImage): void {
  assert.equal(view.dbVersion, bed.version === '2.1' ? 4 : 3, 'schema version');
  const ns = namespace(view, 'default');
  const nydus = ns.snapshotters.get('nydus');
  assert.ok(nydus, `snapshotters: ${[...ns.snapshotters.keys()].join(', ')}`);
  const top = image.chainIds[image.chainIds.length - 1]!;

  image.chainIds.forEach((chainId, i) => {
    const record = nydus.snapshots.get(chainId);
    assert.ok(record, `snapshot record ${chainId}`);
    assert.equal(record.parent, i === 0 ? undefined : image.chainIds[i - 1], `parent of layer ${i}`);
    assert.match(record.backendKey, new RegExp(`^default/\\d+/${chainId}$`));
    assert.ok(record.createdAt && record.updatedAt && record.createdAt.getTime() > Date.now() - 3_600_000);
    const child = i + 1 < image.chainIds.length ? image.chainIds[i + 1]! : 'meta-c1';
    assert.ok(
      record.children.includes(child),
      `${chainId} lists child ${child}: ${record.children.join(', ')}`,
    );
  });
  const highest = Math.max(...[...nydus.snapshots.values()].map((s) => Number(s.backendKey.split('/')[1])));
  assert.ok(
    nydus.sequence >= BigInt(highest),
    `sequence ${nydus.sequence} >= highest backend number ${highest}`,
  );

  const containerSnapshot = nydus.snapshots.get('meta-c1');
  assert.equal(containerSnapshot?.parent, top, 'the container snapshot sits on the image top layer');
  const container = ns.containers.get('meta-c1');
  assert.ok(container, `container meta-c1 in ${[...ns.containers.keys()].join(', ')}`);
  const { id, snapshotter, snapshotKey, runtime } = container;
  assert.deepEqual(
    { id, snapshotter, snapshotKey, image: container.image, runtime },
    {
      id: 'meta-c1',
      snapshotter: 'nydus',
      snapshotKey: 'meta-c1',
      image: image.ref,
      runtime: 'io.containerd.runc.v2',
    },
  );
  // 1.7 and 2.x write an empty sandboxid for a container outside a sandbox; 1.6 has no such field.
  assert.equal(container.sandboxId, bed.version === '1.6' ? undefined : '');
  assert.ok(container.createdAt && container.updatedAt);

  const record = ns.images.get(image.ref);
  assert.ok(record, `image ${image.ref} in ${[...ns.images.keys()].join(', ')}`);
  assert.equal(record.target.digest, image.manifestDigest);
  assert.equal(record.target.mediaType, 'application/vnd.oci.image.manifest.v1+json');
  assert.ok((record.target.size ?? 0) > 0);
  // image -> manifest -> config -> top snapshot: the chain that keeps a stale record alive.
  const manifestLabels = ns.contentLabels.get(image.manifestDigest) ?? {};
  assert.equal(manifestLabels['containerd.io/gc.ref.content.config'], image.configDigest);
  assert.equal(ns.contentLabels.get(image.configDigest)?.[`${GC_REF_SNAPSHOT_PREFIX}nydus`], top);

  const lease = ns.leases.get('meta-lease');
  assert.ok(lease, `lease meta-lease in ${[...ns.leases.keys()].join(', ')}`);
  assert.equal(lease.labels['purpose'], 'metadb-test');
  assert.ok(lease.createdAt);
  assert.deepEqual(namespace(view, 'meta-ns').labels, { team: 'kata' });
}

for (const version of ALL_VERSIONS) {
  describe(`meta.db written by containerd ${version}`, () => {
    test('decodes while containerd runs, while it commits, and after it stopped', async () => {
      await withBed({ version }, async (bed) => {
        // 64 records of ~100 bytes each in the snapshotter's bucket overflow one 4 KiB leaf: the bucket gets
        // branch pages, so decoding every chain ID below also covers branch pages in a real file.
        const image = await generateImage(
          { name: `test/metadb-${version}:1`, layers: LAYERS, seed: `metadb-${version}` },
          bed.root,
        );
        await bed.importImage(image);
        await bed.createContainer('meta-c1', image);
        await bed.ctr(['leases', 'create', '--id', 'meta-lease', '--expires', '0', 'purpose=metadb-test']);
        await bed.ctr(['namespaces', 'create', 'meta-ns', 'team=kata']);

        const located = await locateMetaDb({ configFile: bed.configPath });
        assert.deepEqual(
          [located.path, located.source, located.evidence.status],
          [bed.metaDbPath, 'runtime', 'seen'],
        );
        // The same root set by a drop-in that a config imports through a glob (containerd 2.x's conf.d).
        const containerdRoot = dirname(dirname(bed.metaDbPath));
        await mkdir(join(bed.root, 'conf.d'), { recursive: true });
        await writeFile(join(bed.root, 'conf.d', '50-root.toml'), `root = "${containerdRoot}"\n`);
        const importing = join(bed.root, 'importing.toml');
        await writeFile(importing, `version = 3\nimports = ["${join(bed.root, 'conf.d')}/*.toml"]\n`);
        assert.equal((await locateMetaDb({ configFile: importing })).path, bed.metaDbPath);

        // containerd is up and holds an exclusive flock on the file: the read must not wait for it.
        const live = await readWithin(bed.metaDbPath);
        checkView(live, bed, image);
        const decodedKeys = [
          ...namespace(live, 'default').snapshotters.get('nydus')!.snapshots.keys(),
        ].sort();
        assert.deepEqual(
          decodedKeys,
          await ctrKeys(bed),
          'same records as containerd lists while the backend is intact',
        );

        const head = await readFile(bed.metaDbPath);
        const size = discoverPageSize(head);
        assert.ok('pageSize' in size);
        const meta = validMetas(head, size.pageSize).metas[0]!;
        if (version === '1.6') assert.notEqual(meta.freelist, PGID_NO_FREELIST, '1.6 persists its freelist');
        else assert.equal(meta.freelist, PGID_NO_FREELIST, `${version} opens with NoFreelistSync`);

        // Reads racing containerd's own commits each see one consistent transaction.
        let writing = true;
        const writer = (async () => {
          for (let i = 0; writing && i < 40; i++) {
            const top = image.chainIds[image.chainIds.length - 1]!;
            await bed.ctr(['snapshots', '--snapshotter', 'nydus', 'prepare', `race-${i}`, top]);
            await bed.ctr(['snapshots', '--snapshotter', 'nydus', 'rm', `race-${i}`]);
          }
        })();
        let reads = 0;
        let lastTxid = 0n;
        const started = Date.now();
        while (Date.now() - started < 4_000) {
          const view = await readWithin(bed.metaDbPath);
          checkView(view, bed, image);
          assert.ok(view.txid >= lastTxid, 'txids never go back');
          lastTxid = view.txid;
          reads++;
        }
        writing = false;
        await writer;
        assert.ok(
          lastTxid > live.txid,
          `containerd committed during the reads (txid ${live.txid} -> ${lastTxid})`,
        );
        assert.ok(reads >= 3, `${reads} reads`);

        await bed.stopContainerd();
        const stopped = await readWithin(bed.metaDbPath);
        checkView(stopped, bed, image);
        assert.ok(stopped.txid >= lastTxid);
        const names = (v: MetaDbView) =>
          [...namespace(v, 'default').snapshotters.get('nydus')!.snapshots.keys()].sort();
        assert.deepEqual(names(stopped), decodedKeys, 'the race-* snapshots are gone again');
      });
    });
  });
}

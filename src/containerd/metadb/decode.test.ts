import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseBolt } from './bolt.js';
import { decodeMetaDb } from './decode.js';
import { MetaDbFormatError } from './errors.js';
import { tree, writeBolt, type BoltTree } from './testing/bolt-writer.js';
import { goTime, goVarint, layerChain, metaDbTree } from './testing/fixture.js';

const decode = (root: BoltTree, path = '/x/meta.db') => decodeMetaDb(parseBolt(writeBolt(root).bytes, path));

const CONFIG = 'sha256:c0f1';
const MANIFEST = 'sha256:3a41';

describe('decodeMetaDb', () => {
  const chain = layerChain('aa', 3);
  const top = chain[2]!.key;
  const view = decode(
    metaDbTree({
      dbVersion: 3,
      namespaces: {
        default: {
          labels: { team: 'x' },
          snapshotters: {
            nydus: {
              sequence: 17n,
              snapshots: [...chain, { key: 'c1', backendKey: 'default/17/c1', parent: top, labels: {} }],
            },
            overlayfs: { snapshots: [] },
          },
          containers: [
            {
              id: 'c1',
              snapshotter: 'nydus',
              snapshotKey: 'c1',
              image: 'docker.io/library/busybox:latest',
              runtime: 'io.containerd.kata-qemu.v2',
              labels: { a: 'b' },
            },
          ],
          images: [
            {
              name: 'docker.io/library/busybox:latest',
              digest: MANIFEST,
              size: 2 ** 40,
              labels: { 'io.cri-containerd.image': 'managed' },
            },
          ],
          blobs: {
            [MANIFEST]: { 'containerd.io/gc.ref.content.config': CONFIG },
            [CONFIG]: { 'containerd.io/gc.ref.snapshot.nydus': top },
            'sha256:00aa': {},
          },
          leases: [
            {
              id: 'pull-1',
              snapshots: { nydus: ['extract-1 sha256:x', top] },
              content: [CONFIG],
              labels: { 'containerd.io/gc.expire': '2030-01-01T00:00:00Z' },
            },
          ],
        },
        'k8s.io': {},
      },
    }),
  );

  it('reads the schema version and every namespace', () => {
    assert.equal(view.dbVersion, 3);
    assert.equal(view.path, '/x/meta.db');
    assert.equal(view.txid, 2n);
    assert.deepEqual(
      view.namespaces.map((n) => n.name),
      ['default', 'k8s.io'],
    );
    const k8s = view.namespaces[1]!;
    assert.equal(k8s.snapshotters.size + k8s.containers.size + k8s.images.size + k8s.leases.size, 0);
  });

  it('decodes snapshot records with backend key, parent, children, labels and times', () => {
    const ns = view.namespaces[0]!;
    assert.deepEqual(ns.labels, { team: 'x' });
    const nydus = ns.snapshotters.get('nydus')!;
    assert.equal(nydus.sequence, 17n);
    assert.deepEqual([...nydus.snapshots.keys()], [...chain.map((s) => s.key), 'c1'].sort());
    const middle = nydus.snapshots.get(chain[1]!.key)!;
    assert.deepEqual(middle, {
      key: chain[1]!.key,
      backendKey: `default/2/${chain[1]!.key}`,
      parent: chain[0]!.key,
      children: [top],
      labels: { 'containerd.io/snapshot.ref': chain[1]!.key },
      createdAt: new Date('2024-05-01T12:00:00.123Z'),
      updatedAt: new Date('2024-05-01T12:00:00.123Z'),
    });
    assert.equal(nydus.snapshots.get(chain[0]!.key)!.parent, undefined);
    assert.deepEqual(nydus.snapshots.get('c1')!.labels, {});
    assert.equal(ns.snapshotters.get('overlayfs')!.snapshots.size, 0);
  });

  it('decodes containers, images, content labels and leases', () => {
    const ns = view.namespaces[0]!;
    assert.deepEqual(ns.containers.get('c1'), {
      id: 'c1',
      snapshotter: 'nydus',
      snapshotKey: 'c1',
      image: 'docker.io/library/busybox:latest',
      runtime: 'io.containerd.kata-qemu.v2',
      labels: { a: 'b' },
      createdAt: new Date('2024-05-01T12:00:00.123Z'),
      updatedAt: new Date('2024-05-01T12:00:00.123Z'),
    });
    const image = ns.images.get('docker.io/library/busybox:latest')!;
    assert.deepEqual(image.target, {
      digest: MANIFEST,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      size: 2 ** 40,
    });
    assert.deepEqual(image.labels, { 'io.cri-containerd.image': 'managed' });
    assert.deepEqual(ns.contentLabels.get(CONFIG), { 'containerd.io/gc.ref.snapshot.nydus': top });
    assert.deepEqual(ns.contentLabels.get('sha256:00aa'), {});
    const lease = ns.leases.get('pull-1')!;
    assert.deepEqual([...lease.snapshots], [['nydus', ['extract-1 sha256:x', top]]]);
    assert.deepEqual(lease.content, [CONFIG]);
    assert.deepEqual(lease.ingests, []);
    assert.deepEqual(lease.labels, { 'containerd.io/gc.expire': '2030-01-01T00:00:00Z' });
  });

  it('keeps a label named __proto__ as an ordinary label', () => {
    const v = decode(
      metaDbTree({
        namespaces: {
          default: {
            labels: Object.fromEntries([
              ['__proto__', 'x'],
              ['constructor', 'y'],
            ]),
          },
        },
      }),
    );
    const labels = v.namespaces[0]!.labels;
    assert.equal(Object.getPrototypeOf(labels), Object.prototype);
    assert.deepEqual(Object.entries(labels).sort(), [
      ['__proto__', 'x'],
      ['constructor', 'y'],
    ]);
  });

  it('skips plain values where buckets are expected, as containerd does', () => {
    const v1 = tree({
      version: goVarint(4),
      stray: 'x',
      default: tree({ snapshots: tree({ nydus: tree({ junk: 'v' }, { sequence: 3n }) }) }),
    });
    const v = decode(tree({ v1 }));
    assert.equal(v.dbVersion, 4);
    assert.deepEqual(
      v.namespaces.map((n) => n.name),
      ['default'],
    );
    assert.equal(v.namespaces[0]!.snapshotters.get('nydus')!.snapshots.size, 0);
  });

  it('treats a database without v1 as empty', () => {
    assert.deepEqual(decode(tree([])).namespaces, []);
    assert.equal(decode(tree([])).dbVersion, undefined);
    assert.throws(
      () => decode(tree({ v1: tree({ version: goVarint(5) }) })),
      /schema version 5 is not one this reader knows \(3, 4/,
    );
  });

  it('rejects a bbolt file that is not containerd metadata', () => {
    const snapshotterDb = tree({
      v1: tree({
        snapshots: tree({ 'default/1/sha256:aa': tree({ id: goVarint(1), kind: Buffer.from([3]) }) }),
        parents: tree([]),
      }),
    });
    assert.throws(
      () => decode(snapshotterDb, 'metadata.db'),
      (e: unknown) =>
        e instanceof MetaDbFormatError &&
        /^metadata\.db: no v1\/version: not a containerd meta\.db/.test(e.message),
    );
    assert.throws(() => decode(tree({ v1: 'x' })), /"v1" is a value/);
  });

  it('names the record and field of a malformed value', () => {
    const record = (fields: Record<string, string | Buffer | BoltTree>) =>
      tree({
        v1: tree({
          version: goVarint(3),
          default: tree({ snapshots: tree({ nydus: tree({ 'sha256:ab': tree(fields) }) }) }),
        }),
      });
    assert.throws(
      () => decode(record({ name: 'default/1/sha256:ab', createdat: Buffer.from([1, 2, 3]) }), 'm.db'),
      (e: unknown) =>
        e instanceof MetaDbFormatError &&
        e.message ===
          'm.db: v1/default/snapshots/nydus/sha256:ab/createdat: not a Go binary timestamp (3 bytes, version 1)',
    );
    assert.throws(
      () => decode(record({ createdat: goTime(new Date()) })),
      /sha256:ab: the snapshot record has no "name"/,
    );
    const badSize = tree({
      v1: tree({
        version: goVarint(3),
        default: tree({ images: tree({ img: tree({ target: tree({ size: Buffer.from([0xff]) }) }) }) }),
      }),
    });
    assert.throws(() => decode(badSize), /v1\/default\/images\/img\/target\/size: not a Go varint/);
    assert.throws(
      () => decode(tree({ v1: tree({ version: Buffer.from([0x80]) }) })),
      /v1\/version: not a Go varint/,
    );
  });
});

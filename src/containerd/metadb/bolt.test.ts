import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseBolt, type BoltBucket } from './bolt.js';
import { MetaDbFormatError } from './errors.js';
import { PGID_NO_FREELIST } from './meta.js';
import { resealMeta, tree, writeBolt, type BoltTree } from './testing/bolt-writer.js';

const text = (v: Uint8Array | undefined) => (v === undefined ? undefined : Buffer.from(v).toString('utf8'));
const keys = (b: BoltBucket) => [...b.entries()].map((e) => Buffer.from(e.key).toString());

function manyKeys(n: number, prefix = 'k'): [string, string][] {
  return Array.from({ length: n }, (_, i) => [`${prefix}${String(i).padStart(5, '0')}`, `value-${i}`]);
}

function expectFormatError(fn: () => unknown, pattern: RegExp): MetaDbFormatError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof MetaDbFormatError, `expected MetaDbFormatError, got ${String(caught)}`);
  assert.match(caught.message, pattern);
  assert.equal(caught.exitCode, 2);
  return caught;
}

describe('parseBolt: layout', () => {
  it('reads a fresh, empty database laid out as bbolt does (freelist 2, root 3, pgid 4)', () => {
    const file = writeBolt(tree([]), { txid: 1n });
    assert.equal(file.rootPgid, 3);
    assert.equal(file.highWater, 4);
    const snap = parseBolt(file.bytes, 'fresh.db');
    assert.equal(snap.txid, 1n);
    assert.equal(snap.pageSize, 4096);
    assert.equal(snap.path, 'fresh.db');
    assert.deepEqual(keys(snap.root), []);
  });

  it('gets values and sub-buckets and tells them apart', () => {
    const root = tree({ v1: tree({ version: Buffer.from([6]), ns: tree({ a: 'x' }, { sequence: 42n }) }) });
    const snap = parseBolt(writeBolt(root).bytes);
    const v1 = snap.root.bucket('v1');
    assert.ok(v1);
    assert.deepEqual(Buffer.from(v1.get('version')!), Buffer.from([6]));
    assert.equal(v1.get('ns'), undefined, 'get() of a bucket key');
    assert.equal(v1.bucket('version'), undefined, 'bucket() of a value key');
    assert.equal(v1.get('missing'), undefined);
    assert.equal(v1.bucket('ns')?.sequence, 42n);
    assert.equal(text(v1.bucket(Buffer.from('ns'))?.get(new TextEncoder().encode('a'))), 'x');
    assert.deepEqual(
      [...v1.entries()].map((e) => [Buffer.from(e.key).toString(), e.isBucket, e.value === undefined]),
      [
        ['ns', true, true],
        ['version', false, false],
      ],
    );
    assert.deepEqual(
      [...v1.buckets()].map((e) => Buffer.from(e.key).toString()),
      ['ns'],
    );
  });

  it('reads inline and page-rooted buckets alike', () => {
    const small = manyKeys(3);
    const root = tree({
      inline: tree(small, { inline: true }),
      paged: tree(small, { inline: false, sequence: 7n }),
    });
    const file = writeBolt(root);
    const snap = parseBolt(file.bytes);
    for (const name of ['inline', 'paged']) {
      const b = snap.root.bucket(name)!;
      assert.deepEqual(keys(b), ['k00000', 'k00001', 'k00002']);
      assert.equal(text(b.get('k00001')), 'value-1');
    }
    assert.equal(snap.root.bucket('paged')!.sequence, 7n);
  });

  it('walks multi-level branch pages in key order and finds every key', () => {
    const entries = manyKeys(500);
    const snap = parseBolt(writeBolt(tree({ big: tree(entries) }), { maxElementsPerPage: 4 }).bytes);
    const big = snap.root.bucket('big')!;
    assert.deepEqual(
      keys(big),
      entries.map(([k]) => k),
    );
    for (const [k, v] of entries) assert.equal(text(big.get(k)), v, k);
    for (const probe of ['', 'a', 'k00000x', 'k00499x', 'z', 'k0025'])
      assert.equal(big.get(probe), undefined, probe);
  });

  it('follows overflow pages for large values and large leaves', () => {
    const huge = Buffer.alloc(3 * 4096 + 17, 0xab);
    const root = tree({ b: tree([['huge', huge], ...manyKeys(5)]) });
    const snap = parseBolt(writeBolt(root).bytes);
    assert.deepEqual(Buffer.from(snap.root.bucket('b')!.get('huge')!), huge);
    assert.equal(text(snap.root.bucket('b')!.get('k00004')), 'value-4');
  });

  it('reads files without a persisted freelist', () => {
    const file = writeBolt(tree({ a: tree({ x: 'y' }) }), { freelist: false });
    assert.equal(file.bytes.readBigUInt64LE(16 + 32), PGID_NO_FREELIST);
    assert.equal(text(parseBolt(file.bytes).root.bucket('a')!.get('x')), 'y');
  });

  for (const pageSize of [1024, 16384]) {
    it(`uses the page size from meta 0 (${pageSize}) and probes meta 1 when meta 0 is damaged`, () => {
      const file = writeBolt(tree({ a: tree(manyKeys(50)) }), { pageSize, txid: 3n });
      assert.equal(parseBolt(file.bytes).pageSize, pageSize);
      const damaged = Buffer.from(file.bytes);
      damaged.writeUInt8(damaged.readUInt8(16) ^ 0xff, 16);
      const snap = parseBolt(damaged);
      assert.equal(snap.pageSize, pageSize);
      assert.equal(snap.metaPage, 1);
      assert.equal(text(snap.root.bucket('a')!.get('k00049')), 'value-49');
    });
  }
});

describe('parseBolt: choice of meta page', () => {
  const previous = tree({ a: tree({ which: 'previous' }) });
  const current = tree({ a: tree({ which: 'current' }) });

  it('uses the meta page with the higher txid, on either page', () => {
    for (const txid of [6n, 7n]) {
      const snap = parseBolt(writeBolt(current, { previous, txid }).bytes);
      assert.equal(snap.txid, txid);
      assert.equal(snap.metaPage, Number(txid % 2n));
      assert.equal(text(snap.root.bucket('a')!.get('which')), 'current');
    }
  });

  it('falls back to the older meta when the newer one fails its checksum', () => {
    const file = writeBolt(current, { previous, txid: 6n });
    file.bytes.writeUInt8(file.bytes.readUInt8(16 + 48) ^ 1, 16 + 48); // txid of meta 0, checksum no longer matches
    const snap = parseBolt(file.bytes);
    assert.equal(snap.txid, 5n);
    assert.equal(text(snap.root.bucket('a')!.get('which')), 'previous');
  });

  it('falls back to the older meta when the newer one leads to a damaged page', () => {
    const file = writeBolt(current, { previous, txid: 6n });
    file.bytes.writeBigUInt64LE(999n, file.rootPgid * file.pageSize);
    const snap = parseBolt(file.bytes);
    assert.equal(snap.txid, 5n);
    assert.equal(text(snap.root.bucket('a')!.get('which')), 'previous');
  });

  it('reports the newer meta problem when both trees are damaged', () => {
    const file = writeBolt(current, { previous, txid: 6n });
    file.bytes.writeBigUInt64LE(999n, file.rootPgid * file.pageSize);
    file.bytes.writeBigUInt64LE(998n, file.previousRootPgid * file.pageSize);
    expectFormatError(
      () => parseBolt(file.bytes, 'both.db'),
      /^both\.db: page \d+ carries id 999.*older meta page/,
    );
  });
});

describe('parseBolt: damaged and foreign files', () => {
  const valid = () =>
    writeBolt(tree({ v1: tree({ big: tree(manyKeys(300)), small: tree({ a: 'b' }) }) }), {
      maxElementsPerPage: 8,
    });

  it('rejects an empty file', () => {
    expectFormatError(() => parseBolt(Buffer.alloc(0), 'e.db'), /^e\.db: the file is empty/);
  });

  it('rejects a file that is not bbolt', () => {
    expectFormatError(
      () => parseBolt(Buffer.from('[plugins]\nroot = "/var/lib/containerd"\n'.repeat(200)), 'x.toml'),
      /not a bbolt database: meta page 0 has magic/,
    );
  });

  it('rejects meta pages of another format version', () => {
    const file = valid();
    for (const page of [0, 1] as const) {
      file.bytes.writeUInt32LE(3, page * file.pageSize + 20);
      resealMeta(file.bytes, page, file.pageSize);
    }
    expectFormatError(() => parseBolt(file.bytes), /format version 3/);
  });

  it('rejects a truncated file, naming the missing page', () => {
    const file = valid();
    expectFormatError(
      () => parseBolt(file.bytes.subarray(0, file.bytes.length - 2 * file.pageSize), 't.db'),
      /past the end .*truncated/,
    );
  });

  it('rejects a file cut inside the meta pages', () => {
    expectFormatError(
      () => parseBolt(valid().bytes.subarray(0, 60)),
      /no valid second meta page|beyond the end/,
    );
  });

  it('rejects a page whose id is not its own', () => {
    const file = valid();
    file.bytes.writeBigUInt64LE(3n, (file.highWater - 2) * file.pageSize);
    expectFormatError(() => parseBolt(file.bytes), /carries id 3/);
  });

  it('rejects a page with flags other than branch or leaf in a tree', () => {
    const file = valid();
    file.bytes.writeUInt16LE(0x10, (file.highWater - 2) * file.pageSize + 8);
    expectFormatError(() => parseBolt(file.bytes), /flags 0x10, expected a branch or leaf/);
  });

  it('rejects a branch element that points back up the tree (a cycle) instead of hanging', () => {
    const file = valid();
    const branch = findPage(file.bytes, file.pageSize, file.highWater, 0x01);
    file.bytes.writeBigUInt64LE(BigInt(branch), branch * file.pageSize + 16 + 8);
    expectFormatError(() => parseBolt(file.bytes), /reached twice/);
  });

  it('rejects a pgid at or above the high-water mark', () => {
    const file = valid();
    const branch = findPage(file.bytes, file.pageSize, file.highWater, 0x01);
    file.bytes.writeBigUInt64LE(2n ** 60n, branch * file.pageSize + 16 + 8);
    expectFormatError(() => parseBolt(file.bytes), /outside the pages in use/);
  });

  it('rejects elements that point outside their page and keys out of order', () => {
    const file = valid();
    const leaf = findPage(file.bytes, file.pageSize, file.highWater, 0x02);
    const outside = Buffer.from(file.bytes);
    outside.writeUInt32LE(1 << 30, leaf * file.pageSize + 16 + 4);
    expectFormatError(() => parseBolt(outside), /points past the end of its page/);
    const unordered = Buffer.from(file.bytes);
    const at = leaf * file.pageSize + 16 + 16; // element 1: pos at +4
    const pos = unordered.readUInt32LE(at + 4);
    unordered[at + pos] = 0x00; // first byte of key 1 now sorts before key 0
    expectFormatError(() => parseBolt(unordered), /out of order at element 1/);
  });

  it('rejects an unknown leaf element flag and a short bucket header', () => {
    const file = valid();
    const leaf = findPage(file.bytes, file.pageSize, file.highWater, 0x02);
    const flagged = Buffer.from(file.bytes);
    flagged.writeUInt32LE(4, leaf * file.pageSize + 16);
    expectFormatError(() => parseBolt(flagged), /has flags 0x4/);
    const bucketFlag = Buffer.from(file.bytes);
    bucketFlag.writeUInt32LE(1, leaf * file.pageSize + 16);
    expectFormatError(
      () => parseBolt(bucketFlag),
      /bucket header|inline bucket|outside the pages|reached twice|carries id/,
    );
  });
});

/** First page in the file with the given flags (branch 0x01, leaf 0x02), skipping the root. */
function findPage(bytes: Buffer, pageSize: number, highWater: number, flags: number): number {
  for (let pgid = 3; pgid < highWater; pgid++) {
    if (bytes.readUInt16LE(pgid * pageSize + 8) === flags && bytes.readUInt16LE(pgid * pageSize + 10) > 2)
      return pgid;
  }
  throw new Error(`no page with flags ${flags}`);
}

export function deepTree(depth: number): BoltTree {
  return depth === 0 ? tree({ leaf: 'x' }) : tree({ [`d${depth}`]: deepTree(depth - 1) });
}

it('reads buckets nested deeply (inline inside page-rooted)', () => {
  let b: BoltBucket | undefined = parseBolt(writeBolt(deepTree(20)).bytes).root;
  for (let d = 20; d > 0; d--) b = b?.bucket(`d${d}`);
  assert.equal(text(b?.get('leaf')), 'x');
});

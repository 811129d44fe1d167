import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { openBoltSnapshot, type BoltFileIo } from './bolt.js';
import { MetaDbChangedError, MetaDbFormatError, MetaDbNotFoundError } from './errors.js';
import { tree, writeBolt } from './testing/bolt-writer.js';

const text = (v: Uint8Array | undefined) => (v === undefined ? undefined : Buffer.from(v).toString('utf8'));

function manyKeys(n: number): [string, string][] {
  return Array.from({ length: n }, (_, i) => [`k${String(i).padStart(5, '0')}`, `value-${i}`]);
}

describe('openBoltSnapshot', () => {
  it('reads a file from disk and names it in errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'metadb-'));
    try {
      const path = join(dir, 'meta.db');
      await writeFile(path, writeBolt(tree({ a: tree({ b: 'c' }) })).bytes);
      const snap = await openBoltSnapshot(path);
      assert.equal(snap.path, path);
      assert.equal(text(snap.root.bucket('a')!.get('b')), 'c');
      await writeFile(path, 'garbage');
      await assert.rejects(
        openBoltSnapshot(path),
        (e: unknown) => e instanceof MetaDbFormatError && e.message.startsWith(path),
      );
      await assert.rejects(openBoltSnapshot(join(dir, 'nope.db')), MetaDbNotFoundError);
      await assert.rejects(openBoltSnapshot(dir), MetaDbFormatError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  /** A scripted file: each readFile returns the next version, readHead reads from `head()`. */
  function scripted(versions: Buffer[], head: (reads: number) => Buffer): BoltFileIo & { reads: number } {
    const io = {
      reads: 0,
      readFile: async () => versions[Math.min(io.reads++, versions.length - 1)]!,
      readHead: async (_: string, length: number) => head(io.reads).subarray(0, length),
    };
    return io;
  }

  it('accepts a read during which containerd committed once', async () => {
    const a = writeBolt(tree({ a: tree({ v: '1' }) }), { txid: 4n }).bytes;
    const b = writeBolt(tree({ a: tree({ v: '2' }) }), { txid: 5n }).bytes;
    const io = scripted([a, b], () => b);
    const snap = await openBoltSnapshot('m.db', { io });
    assert.equal(snap.txid, 4n);
    assert.equal(io.reads, 1);
  });

  it('reads again when the txid moved by more than one during the read', async () => {
    const a = writeBolt(tree({ a: tree({ v: '1' }) }), { txid: 4n }).bytes;
    const c = writeBolt(tree({ a: tree({ v: '3' }) }), { txid: 9n }).bytes;
    const io = scripted([a, c], () => c);
    const snap = await openBoltSnapshot('m.db', { io, retryDelayMs: 0 });
    assert.equal(snap.txid, 9n);
    assert.equal(text(snap.root.bucket('a')!.get('v')), '3');
    assert.equal(io.reads, 2);
  });

  it('gives up with MetaDbChangedError when the file never settles', async () => {
    let txid = 10n;
    const io: BoltFileIo = {
      readFile: async () => writeBolt(tree([]), { txid: (txid += 5n) }).bytes,
      readHead: async () => writeBolt(tree([]), { txid: txid + 3n }).bytes,
    };
    await assert.rejects(
      openBoltSnapshot('busy.db', { io, retryDelayMs: 0 }),
      (e: unknown) => e instanceof MetaDbChangedError && /busy\.db kept changing/.test(e.message),
    );
  });

  it('re-reads a torn copy, but reports a damaged file at once when its head did not move', async () => {
    const good = writeBolt(tree({ a: tree(manyKeys(200)) }), { txid: 8n }).bytes;
    const torn = Buffer.from(good);
    torn.writeBigUInt64LE(1234n, 5 * 4096);
    torn.writeBigUInt64LE(1234n, 6 * 4096); // both trees share pages here, so both metas fail
    const tornIo = scripted([torn, good], (reads) =>
      reads === 1 ? Buffer.concat([good.subarray(0, 100), Buffer.from([1])]) : good,
    );
    assert.equal((await openBoltSnapshot('m.db', { io: tornIo, retryDelayMs: 0 })).txid, 8n);
    assert.equal(tornIo.reads, 2);
    const staticIo = scripted([torn], () => torn);
    await assert.rejects(openBoltSnapshot('m.db', { io: staticIo, retryDelayMs: 0 }), MetaDbFormatError);
    assert.equal(staticIo.reads, 1);
  });
});

/**
 * Property tests: whatever bytes the reader is given, it returns a result or throws MetaDbFormatError,
 * and it does so quickly. Inputs are random bytes, truncations and corruptions of a valid containerd-like
 * file (with branch, overflow and inline pages), including corruptions behind a re-sealed meta page so
 * the damage reaches the tree walk.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { parseBolt, type BoltBucket } from './bolt.js';
import { decodeMetaDb } from './decode.js';
import { MetaDbFormatError } from './errors.js';
import { resealMeta, writeBolt } from './testing/bolt-writer.js';
import { layerChain, metaDbTree } from './testing/fixture.js';

const PAGE_SIZE = 1024;
const TIME_LIMIT_MS = 200;
const RUNS = Number(process.env.METADB_FUZZ_RUNS ?? 300);

const valid = writeBolt(
  metaDbTree({
    namespaces: {
      default: {
        snapshotters: {
          nydus: { snapshots: layerChain('ab', 40) },
          overlayfs: { snapshots: layerChain('cd', 3) },
        },
        containers: [
          { id: 'c1', snapshotter: 'nydus', snapshotKey: 'c1', labels: { big: 'x'.repeat(3000) } },
        ],
        images: [{ name: 'img', digest: 'sha256:11' }],
        blobs: { 'sha256:22': { 'containerd.io/gc.ref.snapshot.nydus': 'sha256:ab000039' } },
        leases: [{ id: 'l', snapshots: { nydus: ['k'] } }],
      },
      other: { snapshotters: { nydus: { snapshots: layerChain('ef', 5) } } },
    },
  }),
  { pageSize: PAGE_SIZE, maxElementsPerPage: 6, txid: 9n },
).bytes;

/** Touches every bucket, key and value the way a caller could. */
function walk(bucket: BoltBucket, depth = 0): number {
  let n = 0;
  for (const e of bucket.entries()) {
    n++;
    if (e.isBucket && depth < 16) n += walk(bucket.bucket(e.key)!, depth + 1);
    else bucket.get(e.key);
  }
  return n;
}

function readsOrRejects(bytes: Uint8Array): void {
  const started = performance.now();
  try {
    const snapshot = parseBolt(bytes, 'fuzz.db');
    walk(snapshot.root);
    decodeMetaDb(snapshot);
  } catch (error) {
    if (!(error instanceof MetaDbFormatError)) throw error;
    assert.match(error.message, /^fuzz\.db: /);
  }
  const elapsed = performance.now() - started;
  assert.ok(elapsed < TIME_LIMIT_MS, `took ${elapsed.toFixed(1)} ms`);
}

function mutate(flips: { at: number; value: number }[], reseal: boolean): Buffer {
  const bytes = Buffer.from(valid);
  for (const { at, value } of flips) bytes[at % bytes.length] = value;
  if (reseal) {
    resealMeta(bytes, 0, PAGE_SIZE);
    resealMeta(bytes, 1, PAGE_SIZE);
  }
  return bytes;
}

const flip = fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) });

describe('bbolt reader under fuzzing', () => {
  it('the unmodified fixture decodes', () => {
    const view = decodeMetaDb(parseBolt(valid));
    assert.equal(view.namespaces[0]!.snapshotters.get('nydus')!.snapshots.size, 40);
  });

  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 6 * PAGE_SIZE }), readsOrRejects), { numRuns: RUNS });
  });

  it('random bytes behind two valid meta pages', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 2 * PAGE_SIZE, maxLength: 8 * PAGE_SIZE }), (junk) => {
        const bytes = Buffer.from(junk);
        valid.copy(bytes, 0, 0, 2 * PAGE_SIZE);
        readsOrRejects(bytes);
      }),
      { numRuns: RUNS },
    );
  });

  it('truncations of a valid file', () => {
    fc.assert(
      fc.property(fc.nat({ max: valid.length }), (n) => readsOrRejects(valid.subarray(0, n))),
      { numRuns: RUNS },
    );
  });

  it('byte flips of a valid file', () => {
    fc.assert(
      fc.property(fc.array(flip, { minLength: 1, maxLength: 8 }), (flips) =>
        readsOrRejects(mutate(flips, false)),
      ),
      {
        numRuns: RUNS,
      },
    );
  });

  it('byte flips behind re-sealed meta pages', () => {
    fc.assert(
      fc.property(fc.array(flip, { minLength: 1, maxLength: 8 }), (flips) =>
        readsOrRejects(mutate(flips, true)),
      ),
      {
        numRuns: RUNS,
      },
    );
  });

  it('element fields of tree pages overwritten with hostile values', () => {
    const pages = valid.length / PAGE_SIZE;
    const hostile = fc.oneof(fc.constantFrom(0, 1, 2, 3, 0xffff, 0xffffffff, pages, pages - 1), fc.nat());
    const edit = fc.record({
      page: fc.integer({ min: 2, max: pages - 1 }),
      offset: fc.integer({ min: 0, max: 16 * 8 }),
      value: hostile,
    });
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), (edits) => {
        const bytes = Buffer.from(valid);
        for (const e of edits) bytes.writeUInt32LE(e.value >>> 0, e.page * PAGE_SIZE + (e.offset & ~3));
        readsOrRejects(bytes);
      }),
      { numRuns: RUNS },
    );
  });
});

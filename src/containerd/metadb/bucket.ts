/**
 * Lazy, read-only views of bbolt buckets over a verified file buffer (see pages.ts). Nothing is copied:
 * keys and values handed out are subarray views into the one buffer the file was read into, and the
 * `forEach` fast path hands out no views at all unless asked.
 */
import { decodeKey } from './keys.js';
import { PAGE_HEADER_SIZE } from './meta.js';
import { ELEMENT_SIZE, LEAF_FLAG_BUCKET, type PageIndex, type PageView } from './pages.js';

export interface BoltEntry {
  readonly key: Uint8Array;
  /** The value; undefined for a sub-bucket. */
  readonly value: Uint8Array | undefined;
  readonly isBucket: boolean;
}

/** The entry under the cursor of `forEach`; valid only during the callback that received it. */
export interface BoltCursor {
  readonly isBucket: boolean;
  /** The value as a view into the file; undefined for a sub-bucket. */
  value(): Uint8Array | undefined;
  /** The value decoded as UTF-8; undefined for a sub-bucket. */
  text(): string | undefined;
  /** The sub-bucket; undefined for a plain value. */
  bucket(): BoltBucket | undefined;
}

export interface BoltBucket {
  /** The value stored under `key`; undefined when absent or when `key` names a sub-bucket. */
  get(key: string | Uint8Array): Uint8Array | undefined;
  /** The sub-bucket under `key`; undefined when absent or when `key` holds a plain value. */
  bucket(key: string | Uint8Array): BoltBucket | undefined;
  /** Every entry in key order. */
  entries(): Iterable<BoltEntry>;
  /** The sub-buckets in key order (plain values skipped), each already opened. */
  buckets(): Iterable<{ key: Uint8Array; bucket: BoltBucket }>;
  /** Fast path for decoders: every entry in key order, the key decoded as UTF-8, nothing copied. */
  forEach(fn: (key: string, entry: BoltCursor) => void): void;
  /** The bucket's NextSequence counter. */
  readonly sequence: bigint;
}

// A local copy: a hot path should not pay for a cross-module binding lookup under every loader.
const HEADER = PAGE_HEADER_SIZE;

function toBuffer(key: string | Uint8Array): Buffer {
  if (typeof key === 'string') return Buffer.from(key, 'utf8');
  return Buffer.isBuffer(key) ? key : Buffer.from(key.buffer, key.byteOffset, key.byteLength);
}

/** Positions of one leaf element, as absolute file offsets. */
class Element implements BoltCursor {
  keyStart = 0;
  keyEnd = 0;
  valueEnd = 0;
  isBucket = false;

  constructor(private readonly index: PageIndex) {}

  at(page: PageView, i: number): this {
    const { index } = this;
    const off = page.base + HEADER + i * ELEMENT_SIZE;
    this.keyStart = off + index.u32(off + 4);
    this.keyEnd = this.keyStart + index.u32(off + 8);
    this.valueEnd = this.keyEnd + index.u32(off + 12);
    this.isBucket = (index.u32(off) & LEAF_FLAG_BUCKET) !== 0;
    return this;
  }

  key(): Buffer {
    return this.index.buf.subarray(this.keyStart, this.keyEnd);
  }

  value(): Uint8Array | undefined {
    return this.isBucket ? undefined : this.index.buf.subarray(this.keyEnd, this.valueEnd);
  }

  text(): string | undefined {
    return this.isBucket ? undefined : this.index.buf.toString('utf8', this.keyEnd, this.valueEnd);
  }

  bucket(): BoltBucket | undefined {
    return this.isBucket ? BucketView.open(this.index, this.keyEnd, this.valueEnd) : undefined;
  }
}

export class BucketView implements BoltBucket {
  /**
   * @param header offset of the 16-byte bucket header (root pgid, sequence) in the file; -1 for the root
   *   bucket, whose header lives in the meta page.
   */
  private constructor(
    private readonly index: PageIndex,
    private readonly header: number,
    private readonly rootPgid: number,
    private readonly inline: PageView | undefined,
  ) {}

  static root(index: PageIndex): BucketView {
    return new BucketView(index, -1, index.meta.rootPgid, undefined);
  }

  /** Opens the sub-bucket whose value (header, then any inline page) is [start, end) of the file. */
  static open(index: PageIndex, start: number, end: number): BucketView {
    const root = index.pgid(start);
    return new BucketView(index, start, root, root === 0 ? index.inlinePage(start, end) : undefined);
  }

  /** Read on demand: most buckets are never asked, and each read allocates a bigint. */
  get sequence(): bigint {
    return this.header < 0 ? this.index.meta.rootSequence : this.index.dv.getBigUint64(this.header + 8, true);
  }

  get(key: string | Uint8Array): Uint8Array | undefined {
    return this.seek(toBuffer(key))?.value();
  }

  bucket(key: string | Uint8Array): BoltBucket | undefined {
    return this.seek(toBuffer(key))?.bucket();
  }

  *entries(): Iterable<BoltEntry> {
    const entries: BoltEntry[] = [];
    this.visit((e) => entries.push({ key: e.key(), value: e.value(), isBucket: e.isBucket }));
    yield* entries;
  }

  *buckets(): Iterable<{ key: Uint8Array; bucket: BoltBucket }> {
    const buckets: { key: Uint8Array; bucket: BoltBucket }[] = [];
    this.visit((e) => {
      if (e.isBucket) buckets.push({ key: e.key(), bucket: e.bucket()! });
    });
    yield* buckets;
  }

  forEach(fn: (key: string, entry: BoltCursor) => void): void {
    const buf = this.index.buf;
    this.visit((e) => fn(decodeKey(buf, e.keyStart, e.keyEnd), e));
  }

  private rootPage(): PageView {
    return this.inline ?? this.index.page(this.rootPgid);
  }

  /** Compares `key` with the key of element `i`: <0, 0 or >0 like Buffer.compare. */
  private compareAt(page: PageView, i: number, key: Buffer): number {
    const { index } = this;
    const off = page.base + HEADER + i * ELEMENT_SIZE;
    const posField = page.branch ? 0 : 4;
    const start = off + index.u32(off + posField);
    return key.compare(index.buf, start, start + index.u32(off + posField + 4));
  }

  /** First index whose key is >= `key` (count when none). */
  private lowerBound(page: PageView, key: Buffer): number {
    let lo = 0;
    let hi = page.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.compareAt(page, mid, key) > 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private seek(key: Buffer): Element | undefined {
    let page = this.rootPage();
    while (page.branch) {
      const i = this.lowerBound(page, key);
      const exact = i < page.count && this.compareAt(page, i, key) === 0;
      const child = exact || i === 0 ? i : i - 1;
      page = this.index.page(this.index.pgid(page.base + HEADER + child * ELEMENT_SIZE + 8));
    }
    const i = this.lowerBound(page, key);
    if (i >= page.count || this.compareAt(page, i, key) !== 0) return undefined;
    return new Element(this.index).at(page, i);
  }

  /** Calls `fn` for every leaf element in key order with one reused cursor. */
  private visit(fn: (e: Element) => void): void {
    this.walk(this.rootPage(), fn, new Element(this.index));
  }

  private walk(page: PageView, fn: (e: Element) => void, cursor: Element): void {
    for (let i = 0; i < page.count; i++) {
      if (!page.branch) fn(cursor.at(page, i));
      else this.walk(this.index.page(this.index.pgid(page.base + HEADER + i * ELEMENT_SIZE + 8)), fn, cursor);
    }
  }
}

/**
 * Structural check of every page reachable from a meta page, done once before anything is decoded. Each
 * page must carry its own id, be a branch or leaf page, lie inside the file and below the meta's
 * high-water mark, and be reached exactly once (a second path to a page means a cycle or a torn read).
 * Every element's key and value must lie inside its page, keys must ascend within a page and stay in the
 * range their branch elements give them. After this walk the lookups in bucket.ts can trust every offset,
 * and no traversal can loop. All positions are absolute offsets into the one file buffer: no copies, no
 * per-element views.
 */
import { MetaDbFormatError } from './errors.js';
import { PAGE_FLAG_BRANCH, PAGE_FLAG_LEAF, PAGE_HEADER_SIZE, type BoltMeta } from './meta.js';

export const ELEMENT_SIZE = 16;
export const BUCKET_HEADER_SIZE = 16;
export const LEAF_FLAG_BUCKET = 0x01;
/** A real tree of 4 KiB pages is a handful of levels deep; anything deeper is a corrupted file. */
const MAX_TREE_DEPTH = 64;
const MAX_BUCKET_NESTING = 64;

/** One branch or leaf page: bytes [base, end) of the file, overflow pages included. */
export interface PageView {
  readonly base: number;
  readonly end: number;
  readonly count: number;
  readonly branch: boolean;
}

/** A key as a byte range of the file. */
interface KeyRef {
  readonly start: number;
  readonly end: number;
}

/** Keys a subtree must stay within, taken from its ancestors' branch elements: lower <= key < upper. */
interface KeyRange {
  readonly lower: KeyRef | undefined;
  readonly upper: KeyRef | undefined;
}

const UNBOUNDED: KeyRange = { lower: undefined, upper: undefined };

/** A bucket's position for error messages, turned into text only when something is wrong. */
interface BucketPath {
  readonly parent: BucketPath | undefined;
  readonly key: KeyRef;
}

/**
 * Byte order of two ranges of `buf` (<0, 0, >0). A JavaScript loop beats Buffer.compare's native call
 * for the short keys of a meta.db; long keys still go native.
 */
function compareRanges(buf: Buffer, aStart: number, aEnd: number, bStart: number, bEnd: number): number {
  const aLength = aEnd - aStart;
  const bLength = bEnd - bStart;
  if (aLength > 64 && bLength > 64) return buf.compare(buf, bStart, bEnd, aStart, aEnd);
  const n = Math.min(aLength, bLength);
  for (let i = 0; i < n; i++) {
    const d = buf[aStart + i]! - buf[bStart + i]!;
    if (d !== 0) return d;
  }
  return aLength - bLength;
}

export class PageIndex {
  readonly dv: DataView;
  private readonly pages = new Map<number, PageView>();

  constructor(
    readonly buf: Buffer,
    readonly meta: BoltMeta,
    readonly file: string,
  ) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  u16(off: number): number {
    return this.dv.getUint16(off, true);
  }

  u32(off: number): number {
    return this.dv.getUint32(off, true);
  }

  /** A u64 page id; values past 2^53 come out inexact but always above any valid high-water mark. */
  pgid(off: number): number {
    return this.dv.getUint32(off + 4, true) * 2 ** 32 + this.dv.getUint32(off, true);
  }

  /** A page the walk has checked; anything else is a bug or a file that changed under us. */
  page(pgid: number): PageView {
    const page = this.pages.get(pgid);
    if (!page) throw this.fail(`page ${pgid} was not reached from meta page ${this.meta.page}`);
    return page;
  }

  /** The inline page a bucket value with root 0 carries after its 16-byte header. */
  inlinePage(valueStart: number, valueEnd: number): PageView {
    const base = valueStart + BUCKET_HEADER_SIZE;
    return { base, end: valueEnd, count: this.u16(base + 10), branch: false };
  }

  /** Checks the whole tree from the meta's root bucket; throws MetaDbFormatError on the first problem. */
  verify(): void {
    this.walkTree(this.meta.rootPgid, undefined, 0, 0, UNBOUNDED);
  }

  private fail(problem: string, path?: BucketPath): MetaDbFormatError {
    const where = path === undefined ? '' : ` (bucket ${this.formatPath(path)})`;
    return new MetaDbFormatError(
      this.file,
      `${problem}${where}; read at txid ${this.meta.txid} from meta page ${this.meta.page}`,
    );
  }

  private formatPath(path: BucketPath): string {
    const parts: string[] = [];
    for (let p: BucketPath | undefined = path; p; p = p.parent) {
      parts.unshift(this.buf.toString('utf8', p.key.start, p.key.end));
    }
    return parts.join('/');
  }

  private load(pgid: number, path: BucketPath | undefined): PageView {
    const { pageSize, highWater } = this.meta;
    if (this.pages.has(pgid)) throw this.fail(`page ${pgid} is reached twice (a cycle or a torn read)`, path);
    if (pgid < 2 || pgid >= highWater) {
      throw this.fail(`page ${pgid} is outside the pages in use [2, ${highWater})`, path);
    }
    const base = pgid * pageSize;
    if (base + PAGE_HEADER_SIZE > this.buf.byteLength) {
      throw this.fail(
        `page ${pgid} starts at offset ${base}, past the end of the ${this.buf.byteLength}-byte file (truncated?)`,
        path,
      );
    }
    const id = this.pgid(base);
    if (id !== pgid) throw this.fail(`page ${pgid} carries id ${id}`, path);
    const flags = this.u16(base + 8);
    if (flags !== PAGE_FLAG_BRANCH && flags !== PAGE_FLAG_LEAF) {
      throw this.fail(`page ${pgid} has flags 0x${flags.toString(16)}, expected a branch or leaf page`, path);
    }
    const overflow = this.u32(base + 12);
    const end = base + (1 + overflow) * pageSize;
    if (pgid + overflow >= highWater || end > this.buf.byteLength) {
      throw this.fail(`page ${pgid} with ${overflow} overflow pages runs past the end of the file`, path);
    }
    const page = { base, end, count: this.u16(base + 10), branch: flags === PAGE_FLAG_BRANCH };
    this.pages.set(pgid, page);
    return page;
  }

  private walkTree(
    pgid: number,
    path: BucketPath | undefined,
    depth: number,
    nesting: number,
    range: KeyRange,
  ): void {
    if (depth > MAX_TREE_DEPTH) throw this.fail(`the tree is more than ${MAX_TREE_DEPTH} levels deep`, path);
    const page = this.load(pgid, path);
    const where = `page ${pgid}`;
    this.checkElementArea(page, where, path);
    if (!page.branch) {
      this.checkLeaf(page, where, path, nesting);
      return this.checkRange(page, range, where, path);
    }
    if (page.count === 0) throw this.fail(`branch ${where} has no elements`, path);
    const keys: KeyRef[] = [];
    for (let i = 0; i < page.count; i++) {
      const off = page.base + PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
      const start = off + this.u32(off);
      const key = { start, end: start + this.u32(off + 4) };
      this.checkKey(page, i, key, keys[i - 1], where, path);
      keys.push(key);
    }
    // A lookup descends into the last child whose branch key is <= the key (or into the first child), so
    // each child's keys must lie between its own branch key and the next one for every key to be found.
    for (let i = 0; i < page.count; i++) {
      const lower = i === 0 ? range.lower : keys[i];
      const upper = i + 1 < page.count ? keys[i + 1] : range.upper;
      const child = this.pgid(page.base + PAGE_HEADER_SIZE + i * ELEMENT_SIZE + 8);
      this.walkTree(child, path, depth + 1, nesting, { lower, upper });
    }
  }

  private leafKey(page: PageView, i: number): KeyRef {
    const off = page.base + PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
    const start = off + this.u32(off + 4);
    return { start, end: start + this.u32(off + 8) };
  }

  private compare(a: KeyRef, b: KeyRef): number {
    return compareRanges(this.buf, a.start, a.end, b.start, b.end);
  }

  private checkRange(page: PageView, range: KeyRange, where: string, path: BucketPath | undefined): void {
    if (page.count === 0 || (!range.lower && !range.upper)) return;
    const first = this.leafKey(page, 0);
    const last = this.leafKey(page, page.count - 1);
    if (
      (range.lower && this.compare(first, range.lower) < 0) ||
      (range.upper && this.compare(last, range.upper) >= 0)
    ) {
      throw this.fail(`the keys of ${where} fall outside the range its branch element gives them`, path);
    }
  }

  private checkLeaf(page: PageView, where: string, path: BucketPath | undefined, nesting: number): void {
    // Plain numbers rather than KeyRef objects: this loop runs for every element of the file.
    let previousStart = -1;
    let previousEnd = -1;
    for (let i = 0; i < page.count; i++) {
      const off = page.base + PAGE_HEADER_SIZE + i * ELEMENT_SIZE;
      const flags = this.u32(off);
      const keyStart = off + this.u32(off + 4);
      const keyEnd = keyStart + this.u32(off + 8);
      const valueEnd = keyEnd + this.u32(off + 12);
      if (valueEnd > page.end)
        throw this.fail(`element ${i} of ${where} points past the end of its page`, path);
      if (keyStart === keyEnd) throw this.fail(`element ${i} of ${where} has an empty key`, path);
      if (previousEnd >= 0 && compareRanges(this.buf, previousStart, previousEnd, keyStart, keyEnd) >= 0) {
        throw this.fail(`the keys of ${where} are out of order at element ${i}`, path);
      }
      previousStart = keyStart;
      previousEnd = keyEnd;
      if (flags === 0) continue;
      if (flags !== LEAF_FLAG_BUCKET) {
        throw this.fail(`element ${i} of ${where} has flags 0x${flags.toString(16)}`, path);
      }
      const key = { start: keyStart, end: keyEnd };
      this.checkBucket(keyEnd, valueEnd, where, { parent: path, key }, nesting + 1);
    }
  }

  private checkBucket(
    valueStart: number,
    valueEnd: number,
    where: string,
    path: BucketPath,
    nesting: number,
  ): void {
    if (nesting > MAX_BUCKET_NESTING)
      throw this.fail(`buckets are nested more than ${MAX_BUCKET_NESTING} deep`, path);
    const length = valueEnd - valueStart;
    if (length < BUCKET_HEADER_SIZE)
      throw this.fail(`the bucket header in ${where} is ${length} bytes`, path);
    const root = this.pgid(valueStart);
    if (root !== 0) return this.walkTree(root, path, 0, nesting, UNBOUNDED);
    const inlineWhere = `the inline bucket in ${where}`;
    if (length < BUCKET_HEADER_SIZE + PAGE_HEADER_SIZE)
      throw this.fail(`${inlineWhere} is too short for a page header`, path);
    const inline = this.inlinePage(valueStart, valueEnd);
    if (this.u16(inline.base + 8) !== PAGE_FLAG_LEAF)
      throw this.fail(`${inlineWhere} is not a leaf page`, path);
    this.checkElementArea(inline, inlineWhere, path);
    this.checkLeaf(inline, inlineWhere, path, nesting);
  }

  private checkElementArea(page: PageView, where: string, path: BucketPath | undefined): void {
    if (page.base + PAGE_HEADER_SIZE + page.count * ELEMENT_SIZE > page.end) {
      throw this.fail(`${where} claims ${page.count} elements, more than fit in it`, path);
    }
  }

  private checkKey(
    page: PageView,
    i: number,
    key: KeyRef,
    previous: KeyRef | undefined,
    where: string,
    path: BucketPath | undefined,
  ): void {
    if (key.end > page.end)
      throw this.fail(`the key of element ${i} of ${where} points past the end of its page`, path);
    if (key.start === key.end) throw this.fail(`element ${i} of ${where} has an empty key`, path);
    if (previous && this.compare(previous, key) >= 0) {
      throw this.fail(`the keys of ${where} are out of order at element ${i}`, path);
    }
  }
}

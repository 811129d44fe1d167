/**
 * Test-only bbolt writer: lays out meta pages, an optional freelist page, leaf and branch pages,
 * overflow pages and inline buckets exactly as bbolt does, so the reader can be tested feature by feature
 * and on large generated files. It writes a whole file at once and never edits one in place.
 */
import {
  fnv1a64,
  PAGE_FLAG_BRANCH,
  PAGE_FLAG_FREELIST,
  PAGE_FLAG_LEAF,
  PAGE_FLAG_META,
  PGID_NO_FREELIST,
} from '../meta.js';

export type BoltKey = string | Uint8Array;
export type BoltValue = string | Uint8Array;

export interface BoltTree {
  readonly entries: readonly (readonly [BoltKey, BoltValue | BoltTree])[];
  readonly sequence?: bigint;
  /** Force an inline (true) or page-rooted (false) bucket; by default bbolt's rule decides. */
  readonly inline?: boolean;
}

export interface WriteBoltOptions {
  /** @default 4096 */
  readonly pageSize?: number;
  /** txid of the newest meta page (written to page txid % 2). @default 2n */
  readonly txid?: bigint;
  /** Persist an (empty) freelist page, as containerd 1.6 does. @default true */
  readonly freelist?: boolean;
  /** Most elements per leaf or branch page, to force deep trees in small tests. @default unlimited */
  readonly maxElementsPerPage?: number;
  /** Tree the older meta page (txid - 1) points at; by default the same tree as the newest. */
  readonly previous?: BoltTree;
  /** Extra zero pages after the last one, like the slack a real file has. @default 0 */
  readonly slackPages?: number;
}

export interface WrittenBolt {
  readonly bytes: Buffer;
  readonly pageSize: number;
  /** Root page of the newest and of the older tree. */
  readonly rootPgid: number;
  readonly previousRootPgid: number;
  readonly highWater: number;
}

interface Element {
  key: Buffer;
  value: Buffer;
  flags: number;
}

const HEADER = 16;
const ELEM = 16;

function bytesOf(v: BoltKey): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v);
}

function isTree(v: BoltValue | BoltTree): v is BoltTree {
  return typeof v === 'object' && !(v instanceof Uint8Array);
}

/** A bucket from a plain object or entry list. */
export function tree(
  entries: Record<string, BoltValue | BoltTree> | readonly (readonly [BoltKey, BoltValue | BoltTree])[],
  options: { sequence?: bigint; inline?: boolean } = {},
): BoltTree {
  return { entries: Array.isArray(entries) ? entries : Object.entries(entries), ...options };
}

class PageWriter {
  private readonly pages: { pgid: number; bytes: Buffer }[] = [];
  next: number;

  constructor(
    readonly pageSize: number,
    firstPgid: number,
    private readonly maxElements: number,
  ) {
    this.next = firstPgid;
  }

  /** Writes a bucket and returns its 16-byte header value (plus the inline page when inline). */
  bucketValue(t: BoltTree): Buffer {
    const elements = this.elements(t);
    const leafSize = HEADER + elements.reduce((n, e) => n + ELEM + e.key.length + e.value.length, 0);
    const inline = t.inline ?? (elements.every((e) => e.flags === 0) && leafSize <= this.pageSize / 4);
    const header = Buffer.alloc(16);
    header.writeBigUInt64LE(t.sequence ?? 0n, 8);
    if (inline) return Buffer.concat([header, this.leafPage(elements, 0)]);
    header.writeBigUInt64LE(BigInt(this.tree(elements)), 0);
    return header;
  }

  /** Writes a page-rooted tree of the given bucket's entries and returns its root pgid. */
  rootOf(t: BoltTree): number {
    return this.tree(this.elements(t));
  }

  layout(): { pgid: number; bytes: Buffer }[] {
    return this.pages;
  }

  private elements(t: BoltTree): Element[] {
    const elements = t.entries.map(([k, v]) =>
      isTree(v)
        ? { key: bytesOf(k), value: this.bucketValue(v), flags: 1 }
        : { key: bytesOf(k), value: bytesOf(v), flags: 0 },
    );
    elements.sort((a, b) => Buffer.compare(a.key, b.key));
    for (let i = 1; i < elements.length; i++) {
      if (elements[i - 1]!.key.equals(elements[i]!.key))
        throw new Error(`duplicate key ${elements[i]!.key.toString()}`);
    }
    return elements;
  }

  private tree(elements: Element[]): number {
    let level = this.chunk(elements, (e) => ELEM + e.key.length + e.value.length).map((chunk) => ({
      key: chunk[0]?.key ?? Buffer.alloc(0),
      pgid: this.place(this.leafPage(chunk, this.next)),
    }));
    while (level.length > 1) {
      level = this.chunk(level, (e) => ELEM + e.key.length).map((chunk) => ({
        key: chunk[0]!.key,
        pgid: this.place(this.branchPage(chunk, this.next)),
      }));
    }
    return level[0]!.pgid;
  }

  private chunk<T>(items: T[], size: (item: T) => number): T[][] {
    const chunks: T[][] = [[]];
    let used = HEADER;
    for (const item of items) {
      const current = chunks[chunks.length - 1]!;
      const s = size(item);
      if (current.length > 0 && (used + s > this.pageSize || current.length >= this.maxElements)) {
        chunks.push([item]);
        used = HEADER + s;
      } else {
        current.push(item);
        used += s;
      }
    }
    return chunks;
  }

  private place(page: Buffer): number {
    const pgid = this.next;
    this.pages.push({ pgid, bytes: page });
    this.next += page.length / this.pageSize;
    return pgid;
  }

  private sized(contentSize: number, pgid: number): Buffer {
    const pages = Math.max(1, Math.ceil(contentSize / this.pageSize));
    const page = Buffer.alloc(pgid === 0 ? contentSize : pages * this.pageSize);
    page.writeBigUInt64LE(BigInt(pgid), 0);
    if (pgid !== 0) page.writeUInt32LE(pages - 1, 12);
    return page;
  }

  private leafPage(elements: Element[], pgid: number): Buffer {
    const size = HEADER + elements.reduce((n, e) => n + ELEM + e.key.length + e.value.length, 0);
    const page = this.sized(size, pgid);
    page.writeUInt16LE(PAGE_FLAG_LEAF, 8);
    page.writeUInt16LE(elements.length, 10);
    let data = HEADER + elements.length * ELEM;
    elements.forEach((e, i) => {
      const off = HEADER + i * ELEM;
      page.writeUInt32LE(e.flags, off);
      page.writeUInt32LE(data - off, off + 4);
      page.writeUInt32LE(e.key.length, off + 8);
      page.writeUInt32LE(e.value.length, off + 12);
      data += e.key.copy(page, data);
      data += e.value.copy(page, data);
    });
    return page;
  }

  private branchPage(children: { key: Buffer; pgid: number }[], pgid: number): Buffer {
    const size = HEADER + children.reduce((n, c) => n + ELEM + c.key.length, 0);
    const page = this.sized(size, pgid);
    page.writeUInt16LE(PAGE_FLAG_BRANCH, 8);
    page.writeUInt16LE(children.length, 10);
    let data = HEADER + children.length * ELEM;
    children.forEach((c, i) => {
      const off = HEADER + i * ELEM;
      page.writeUInt32LE(data - off, off);
      page.writeUInt32LE(c.key.length, off + 4);
      page.writeBigUInt64LE(BigInt(c.pgid), off + 8);
      data += c.key.copy(page, data);
    });
    return page;
  }
}

/** Writes the meta struct at `page * pageSize` and seals it with its checksum. */
function writeMeta(
  file: Buffer,
  page: 0 | 1,
  pageSize: number,
  m: { root: number; sequence?: bigint; freelist: bigint; highWater: number; txid: bigint },
): void {
  const at = page * pageSize;
  file.writeBigUInt64LE(BigInt(page), at);
  file.writeUInt16LE(PAGE_FLAG_META, at + 8);
  const o = at + 16;
  file.writeUInt32LE(0xed0cdaed, o);
  file.writeUInt32LE(2, o + 4);
  file.writeUInt32LE(pageSize, o + 8);
  file.writeUInt32LE(0, o + 12);
  file.writeBigUInt64LE(BigInt(m.root), o + 16);
  file.writeBigUInt64LE(m.sequence ?? 0n, o + 24);
  file.writeBigUInt64LE(m.freelist, o + 32);
  file.writeBigUInt64LE(BigInt(m.highWater), o + 40);
  file.writeBigUInt64LE(m.txid, o + 48);
  file.writeBigUInt64LE(fnv1a64(file.subarray(o, o + 56)), o + 56);
}

/** Recomputes the checksum of a meta page after a test edited it. */
export function resealMeta(file: Buffer, page: 0 | 1, pageSize: number): void {
  const o = page * pageSize + 16;
  file.writeBigUInt64LE(fnv1a64(file.subarray(o, o + 56)), o + 56);
}

export function writeBolt(root: BoltTree, options: WriteBoltOptions = {}): WrittenBolt {
  const pageSize = options.pageSize ?? 4096;
  const txid = options.txid ?? 2n;
  const persistFreelist = options.freelist ?? true;
  const writer = new PageWriter(pageSize, persistFreelist ? 3 : 2, options.maxElementsPerPage ?? Infinity);
  const rootPgid = writer.rootOf(root);
  const previousRootPgid = options.previous ? writer.rootOf(options.previous) : rootPgid;
  const highWater = writer.next;
  const file = Buffer.alloc((highWater + (options.slackPages ?? 0)) * pageSize);
  for (const { pgid, bytes } of writer.layout()) bytes.copy(file, pgid * pageSize);
  if (persistFreelist) {
    file.writeBigUInt64LE(2n, 2 * pageSize);
    file.writeUInt16LE(PAGE_FLAG_FREELIST, 2 * pageSize + 8);
  }
  const freelist = persistFreelist ? 2n : PGID_NO_FREELIST;
  const newest = Number(txid % 2n) as 0 | 1;
  writeMeta(file, newest, pageSize, { root: rootPgid, sequence: root.sequence, freelist, highWater, txid });
  writeMeta(file, newest === 0 ? 1 : 0, pageSize, {
    root: previousRootPgid,
    sequence: (options.previous ?? root).sequence,
    freelist,
    highWater,
    txid: txid - 1n,
  });
  return { bytes: file, pageSize, rootPgid, previousRootPgid, highWater };
}

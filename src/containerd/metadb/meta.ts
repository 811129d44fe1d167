/**
 * bbolt's two meta pages: validation (magic, version, FNV-1a checksum), page-size discovery and the choice
 * of the newest valid one. Layout (little-endian, offsets inside the page): 0 page header (id u64, flags
 * u16, count u16, overflow u32); 16 magic u32, 20 version u32, 24 pageSize u32, 28 flags u32, 32 root pgid
 * u64, 40 root sequence u64, 48 freelist pgid u64, 56 high-water pgid u64, 64 txid u64, 72 checksum u64
 * over bytes [16, 72).
 */

export const PAGE_HEADER_SIZE = 16;
export const META_MAGIC = 0xed0cdaed;
export const META_VERSION = 2;
export const PAGE_FLAG_BRANCH = 0x01;
export const PAGE_FLAG_LEAF = 0x02;
export const PAGE_FLAG_META = 0x04;
export const PAGE_FLAG_FREELIST = 0x10;
/** `meta.freelist` when the freelist is not persisted (containerd ≥ 1.7 opens with NoFreelistSync). */
export const PGID_NO_FREELIST = 0xffffffffffffffffn;

const META_OFFSET = PAGE_HEADER_SIZE;
const META_CHECKED_BYTES = 56;
export const META_PAGE_BYTES = META_OFFSET + 64;
/** bbolt probes the second meta page at 1024 << i for i = 0..14. */
const PROBE_STEPS = 15;
const MIN_PAGE_SIZE = 512;
const MAX_PAGE_SIZE = 1024 << (PROBE_STEPS - 1);

export interface BoltMeta {
  /** 0 or 1: which meta page this came from. */
  readonly page: 0 | 1;
  readonly pageSize: number;
  readonly rootPgid: number;
  readonly rootSequence: bigint;
  readonly freelist: bigint;
  /** Pages at or above this id are not in use. */
  readonly highWater: number;
  readonly txid: bigint;
}

export type MetaReading = { ok: true; meta: BoltMeta } | { ok: false; problem: string };

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const U64 = 0xffffffffffffffffn;

export function fnv1a64(bytes: Uint8Array): bigint {
  let h = FNV_OFFSET;
  for (const b of bytes) h = ((h ^ BigInt(b)) * FNV_PRIME) & U64;
  return h;
}

function hex(n: number | bigint): string {
  return `0x${n.toString(16)}`;
}

/** Reads and validates the meta page that starts at `pageOffset`; never throws. */
export function readMeta(buf: Uint8Array, pageOffset: number, page: 0 | 1): MetaReading {
  if (pageOffset + META_PAGE_BYTES > buf.byteLength) {
    return {
      ok: false,
      problem: `meta page ${page} at offset ${pageOffset} lies beyond the end of the file`,
    };
  }
  const dv = new DataView(buf.buffer, buf.byteOffset + pageOffset, META_PAGE_BYTES);
  const m = META_OFFSET;
  const magic = dv.getUint32(m, true);
  if (magic !== META_MAGIC) return { ok: false, problem: `meta page ${page} has magic ${hex(magic)}` };
  const version = dv.getUint32(m + 4, true);
  if (version !== META_VERSION) {
    return {
      ok: false,
      problem: `meta page ${page} has format version ${version}, expected ${META_VERSION}`,
    };
  }
  const stored = dv.getBigUint64(m + 56, true);
  const start = buf.byteOffset + pageOffset + m;
  const sum = fnv1a64(new Uint8Array(buf.buffer, start, META_CHECKED_BYTES));
  if (stored !== sum) return { ok: false, problem: `meta page ${page} fails its checksum` };
  const flags = dv.getUint16(8, true);
  if (flags !== PAGE_FLAG_META)
    return { ok: false, problem: `meta page ${page} has page flags ${hex(flags)}` };
  const pageSize = dv.getUint32(m + 8, true);
  if (pageSize < MIN_PAGE_SIZE || pageSize > MAX_PAGE_SIZE) {
    return { ok: false, problem: `meta page ${page} declares an implausible page size ${pageSize}` };
  }
  const rootPgid = dv.getBigUint64(m + 16, true);
  const highWater = dv.getBigUint64(m + 40, true);
  if (highWater > BigInt(Number.MAX_SAFE_INTEGER) || rootPgid < 2n || rootPgid >= highWater) {
    return { ok: false, problem: `meta page ${page} has root page ${rootPgid} outside [2, ${highWater})` };
  }
  return {
    ok: true,
    meta: {
      page,
      pageSize,
      rootPgid: Number(rootPgid),
      rootSequence: dv.getBigUint64(m + 24, true),
      freelist: dv.getBigUint64(m + 32, true),
      highWater: Number(highWater),
      txid: dv.getBigUint64(m + 48, true),
    },
  };
}

/**
 * The page size as bbolt finds it: from meta page 0 when that one is valid, otherwise by probing for a
 * valid meta page 1 at 1024 << i whose declared page size equals its offset.
 */
export function discoverPageSize(buf: Uint8Array): { pageSize: number } | { problem: string } {
  const first = readMeta(buf, 0, 0);
  if (first.ok) return { pageSize: first.meta.pageSize };
  for (let i = 0; i < PROBE_STEPS; i++) {
    const offset = 1024 << i;
    if (offset + META_PAGE_BYTES > buf.byteLength) break;
    const second = readMeta(buf, offset, 1);
    if (second.ok && second.meta.pageSize === offset) return { pageSize: offset };
  }
  return { problem: first.problem };
}

/** Valid metas, newest first (higher txid; meta 0 wins a tie, as in bbolt). */
export function validMetas(buf: Uint8Array, pageSize: number): { metas: BoltMeta[]; problems: string[] } {
  const metas: BoltMeta[] = [];
  const problems: string[] = [];
  for (const page of [0, 1] as const) {
    const reading = readMeta(buf, page * pageSize, page);
    if (!reading.ok) problems.push(reading.problem);
    else if (reading.meta.pageSize !== pageSize) {
      problems.push(
        `meta page ${page} declares page size ${reading.meta.pageSize}, the file uses ${pageSize}`,
      );
    } else metas.push(reading.meta);
  }
  metas.sort((a, b) => (a.txid === b.txid ? a.page - b.page : a.txid > b.txid ? -1 : 1));
  return { metas, problems };
}

/**
 * The D-Bus wire format (marshalling of typed values), as the D-Bus specification defines it: every value is
 * aligned to its type's boundary, counted from the start of the message; containers carry their length.
 * JavaScript shapes: `y n q i u h` → number, `b` → boolean, `x t` → bigint, `d` → number, `s o g` → string,
 * `a…` → array (`a{kv}` → array of `[k, v]` pairs), `(…)` → array of the members, `v` → `{ signature, value }`.
 * Pure: no I/O. We write little-endian and read both byte orders.
 */

export type DBusValue =
  | number
  | bigint
  | boolean
  | string
  | DBusVariant
  | readonly DBusValue[]
  | readonly (readonly [DBusValue, DBusValue])[];

export interface DBusVariant {
  readonly signature: string;
  readonly value: DBusValue;
}

/** A message or value that does not follow the wire format. */
export class WireError extends Error {
  override name = 'WireError';
}

const FIXED: Readonly<Record<string, { size: number }>> = {
  y: { size: 1 },
  b: { size: 4 },
  n: { size: 2 },
  q: { size: 2 },
  i: { size: 4 },
  u: { size: 4 },
  h: { size: 4 },
  x: { size: 8 },
  t: { size: 8 },
  d: { size: 8 },
};

/** Maximum array length and message size the specification allows. */
export const MAX_ARRAY_BYTES = 1 << 26;
export const MAX_MESSAGE_BYTES = 1 << 27;
const MAX_DEPTH = 64;

export function alignmentOf(type: string): number {
  const c = type[0];
  if (c === undefined) throw new WireError('empty type');
  if (c in FIXED) return FIXED[c]!.size;
  if (c === 's' || c === 'o' || c === 'a') return 4;
  if (c === 'g' || c === 'v') return 1;
  if (c === '(' || c === '{') return 8;
  throw new WireError(`unknown type code "${c}"`);
}

/** The complete types of a signature, in order (`"sa{sv}(ii)"` → `["s", "a{sv}", "(ii)"]`). */
export function splitSignature(signature: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < signature.length) {
    const end = completeTypeEnd(signature, i, 0);
    out.push(signature.slice(i, end));
    i = end;
  }
  return out;
}

function completeTypeEnd(sig: string, start: number, depth: number): number {
  if (depth > MAX_DEPTH) throw new WireError(`signature "${sig}" nests too deep`);
  const c = sig[start];
  if (c === undefined) throw new WireError(`signature "${sig}" ends inside a type`);
  if (c in FIXED || 'sogv'.includes(c)) return start + 1;
  if (c === 'a') return completeTypeEnd(sig, start + 1, depth + 1);
  if (c === '(' || c === '{') {
    const close = c === '(' ? ')' : '}';
    let i = start + 1;
    let members = 0;
    while (sig[i] !== close) {
      if (i >= sig.length) throw new WireError(`signature "${sig}" has an unclosed "${c}"`);
      if (c === '{' && members === 0 && !(sig[i]! in FIXED || 'sog'.includes(sig[i]!))) {
        throw new WireError(`signature "${sig}": a dict key must be a basic type`);
      }
      i = completeTypeEnd(sig, i, depth + 1);
      members++;
    }
    if (members === 0) throw new WireError(`signature "${sig}" has an empty struct`);
    if (c === '{' && (members !== 2 || sig[start - 1] !== 'a')) {
      throw new WireError(`signature "${sig}": a dict entry needs two types and must be an array element`);
    }
    return i + 1;
  }
  throw new WireError(`signature "${sig}" has an unknown type code "${c}"`);
}

/** Appends marshalled values; `base` is the offset of the first byte in the whole message (for alignment). */
export class WireWriter {
  private chunks: Buffer[] = [];
  private length = 0;

  constructor(private readonly base = 0) {}

  get offset(): number {
    return this.base + this.length;
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks, this.length);
  }

  private push(buf: Buffer): void {
    this.chunks.push(buf);
    this.length += buf.length;
  }

  pad(alignment: number): void {
    const gap = (alignment - (this.offset % alignment)) % alignment;
    if (gap > 0) this.push(Buffer.alloc(gap));
  }

  write(signature: string, values: readonly DBusValue[]): void {
    const types = splitSignature(signature);
    if (types.length !== values.length) {
      throw new WireError(`signature "${signature}" has ${types.length} values, got ${values.length}`);
    }
    types.forEach((t, i) => this.writeValue(t, values[i]!));
  }

  writeValue(type: string, value: DBusValue): void {
    const c = type[0]!;
    this.pad(alignmentOf(type));
    if (c in FIXED) return this.push(fixedBytes(c, value));
    if (c === 's' || c === 'o') {
      const bytes = Buffer.from(text(value, type), 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32LE(bytes.length);
      return this.push(Buffer.concat([len, bytes, Buffer.alloc(1)]));
    }
    if (c === 'g') {
      const bytes = Buffer.from(text(value, type), 'utf8');
      if (bytes.length > 255) throw new WireError('a signature is at most 255 bytes');
      splitSignature(bytes.toString());
      return this.push(Buffer.concat([Buffer.from([bytes.length]), bytes, Buffer.alloc(1)]));
    }
    if (c === 'v') {
      const v = value as DBusVariant;
      if (typeof v !== 'object' || v === null || typeof v.signature !== 'string') {
        throw new WireError('a variant needs { signature, value }');
      }
      if (splitSignature(v.signature).length !== 1) throw new WireError('a variant holds one complete type');
      this.writeValue('g', v.signature);
      return this.writeValue(v.signature, v.value);
    }
    if (c === 'a') return this.writeArray(type.slice(1), value);
    // struct or dict entry
    const inner = splitSignature(type.slice(1, -1));
    if (!Array.isArray(value) || value.length !== inner.length) {
      throw new WireError(`"${type}" needs an array of ${inner.length} members`);
    }
    inner.forEach((t, i) => this.writeValue(t, (value as readonly DBusValue[])[i]!));
  }

  private writeArray(element: string, value: DBusValue): void {
    if (!Array.isArray(value)) throw new WireError(`"a${element}" needs an array`);
    const lengthAt = this.length;
    this.push(Buffer.alloc(4));
    this.pad(alignmentOf(element));
    const start = this.length;
    for (const item of value as readonly DBusValue[]) this.writeValue(element, item);
    const size = this.length - start;
    if (size > MAX_ARRAY_BYTES) throw new WireError(`an array of ${size} bytes is over the limit`);
    this.patchUInt32(lengthAt, size);
  }

  private patchUInt32(at: number, n: number): void {
    const all = this.bytes();
    all.writeUInt32LE(n, at);
    this.chunks = [all];
  }
}

function text(value: DBusValue, type: string): string {
  if (typeof value !== 'string') throw new WireError(`"${type}" needs a string, got ${typeof value}`);
  return value;
}

function fixedBytes(c: string, value: DBusValue): Buffer {
  const buf = Buffer.alloc(FIXED[c]!.size);
  const num = (): number => {
    // A DOUBLE is any IEEE 754 value; the integer types need a finite integer.
    if (typeof value !== 'number' || (c !== 'd' && !Number.isFinite(value)))
      throw new WireError(`"${c}" needs a number`);
    if (c !== 'd' && !Number.isInteger(value)) throw new WireError(`"${c}" needs an integer`);
    return value;
  };
  const big = (): bigint => {
    if (typeof value === 'bigint') return value;
    if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
    throw new WireError(`"${c}" needs a bigint`);
  };
  try {
    if (c === 'y') buf.writeUInt8(num());
    else if (c === 'b') {
      if (typeof value !== 'boolean') throw new WireError('"b" needs a boolean');
      buf.writeUInt32LE(value ? 1 : 0);
    } else if (c === 'n') buf.writeInt16LE(num());
    else if (c === 'q') buf.writeUInt16LE(num());
    else if (c === 'i') buf.writeInt32LE(num());
    else if (c === 'u' || c === 'h') buf.writeUInt32LE(num());
    else if (c === 'x') buf.writeBigInt64LE(big());
    else if (c === 't') buf.writeBigUInt64LE(big());
    else buf.writeDoubleLE(num());
  } catch (error) {
    if (error instanceof WireError) throw error;
    throw new WireError(`"${c}" cannot hold ${String(value)}`);
  }
  return buf;
}

/** Reads marshalled values from `buf`; `base` is the message offset of `buf[0]` (for alignment). */
export class WireReader {
  private pos: number;

  constructor(
    private readonly buf: Buffer,
    private readonly littleEndian: boolean,
    start = 0,
    private readonly base = 0,
  ) {
    this.pos = start;
  }

  get position(): number {
    return this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) {
      throw new WireError(`message truncated: need ${n} bytes at ${this.pos}, have ${this.buf.length}`);
    }
  }

  align(alignment: number): void {
    const abs = this.base + this.pos;
    const gap = (alignment - (abs % alignment)) % alignment;
    this.need(gap);
    for (let i = 0; i < gap; i++) {
      if (this.buf[this.pos + i] !== 0) throw new WireError('non-zero padding');
    }
    this.pos += gap;
  }

  read(signature: string): DBusValue[] {
    return splitSignature(signature).map((t) => this.readValue(t, 0));
  }

  readValue(type: string, depth: number): DBusValue {
    if (depth > MAX_DEPTH) throw new WireError('value nests too deep');
    const c = type[0]!;
    this.align(alignmentOf(type));
    if (c in FIXED) return this.readFixed(c);
    if (c === 's' || c === 'o') {
      const len = this.readFixed('u') as number;
      this.need(len + 1);
      const str = this.buf.toString('utf8', this.pos, this.pos + len);
      if (this.buf[this.pos + len] !== 0) throw new WireError('string without its NUL');
      this.pos += len + 1;
      return str;
    }
    if (c === 'g') {
      this.need(1);
      const len = this.buf[this.pos++]!;
      this.need(len + 1);
      const sig = this.buf.toString('latin1', this.pos, this.pos + len);
      this.pos += len + 1;
      return sig;
    }
    if (c === 'v') {
      const signature = this.readValue('g', depth + 1) as string;
      if (splitSignature(signature).length !== 1) throw new WireError('a variant holds one complete type');
      return { signature, value: this.readValue(signature, depth + 1) };
    }
    if (c === 'a') {
      const size = this.readFixed('u') as number;
      if (size > MAX_ARRAY_BYTES) throw new WireError(`an array of ${size} bytes is over the limit`);
      const element = type.slice(1);
      this.align(alignmentOf(element));
      const end = this.pos + size;
      this.need(size);
      const items: DBusValue[] = [];
      while (this.pos < end) items.push(this.readValue(element, depth + 1));
      if (this.pos !== end) throw new WireError('array elements overrun the array length');
      return items;
    }
    return splitSignature(type.slice(1, -1)).map((t) => this.readValue(t, depth + 1));
  }

  private readFixed(c: string): DBusValue {
    const size = FIXED[c]!.size;
    this.need(size);
    const b = this.buf;
    const p = this.pos;
    const le = this.littleEndian;
    this.pos += size;
    switch (c) {
      case 'y':
        return b.readUInt8(p);
      case 'b': {
        const v = le ? b.readUInt32LE(p) : b.readUInt32BE(p);
        if (v > 1) throw new WireError(`boolean ${v}`);
        return v === 1;
      }
      case 'n':
        return le ? b.readInt16LE(p) : b.readInt16BE(p);
      case 'q':
        return le ? b.readUInt16LE(p) : b.readUInt16BE(p);
      case 'i':
        return le ? b.readInt32LE(p) : b.readInt32BE(p);
      case 'x':
        return le ? b.readBigInt64LE(p) : b.readBigInt64BE(p);
      case 't':
        return le ? b.readBigUInt64LE(p) : b.readBigUInt64BE(p);
      case 'd':
        return le ? b.readDoubleLE(p) : b.readDoubleBE(p);
      default:
        return le ? b.readUInt32LE(p) : b.readUInt32BE(p);
    }
  }
}

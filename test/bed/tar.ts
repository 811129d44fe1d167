// A minimal ustar writer and reader. The bed builds image layers and OCI layout archives in-process, and it
// must produce the same bytes for the same input, so every header field is fixed (owner 0:0, one mtime).

export type TarEntry =
  | { type: 'file'; name: string; content: Buffer; mode?: number }
  | { type: 'dir'; name: string; mode?: number }
  | { type: 'symlink'; name: string; target: string };

const BLOCK = 512;
/** A fixed modification time (2023-11-14) so archives are byte-for-byte reproducible. */
const FIXED_MTIME = 1_700_000_000;

function writeString(header: Buffer, value: string, offset: number, length: number, field: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) {
    throw new Error(`tar: ${field} "${value}" is longer than ${length} bytes; use a shorter name`);
  }
  bytes.copy(header, offset);
}

function writeOctal(header: Buffer, value: number, offset: number, length: number): void {
  // length-1 octal digits, zero padded, then NUL.
  const digits = value.toString(8).padStart(length - 1, '0');
  if (digits.length > length - 1) throw new Error(`tar: value ${value} does not fit in ${length} bytes`);
  header.write(digits + '\0', offset, length, 'ascii');
}

function headerFor(entry: TarEntry): Buffer {
  const header = Buffer.alloc(BLOCK);
  const name = entry.type === 'dir' && !entry.name.endsWith('/') ? `${entry.name}/` : entry.name;
  writeString(header, name, 0, 100, 'entry name');
  const mode = entry.type === 'symlink' ? 0o777 : (entry.mode ?? (entry.type === 'dir' ? 0o755 : 0o644));
  writeOctal(header, mode, 100, 8);
  writeOctal(header, 0, 108, 8); // uid
  writeOctal(header, 0, 116, 8); // gid
  writeOctal(header, entry.type === 'file' ? entry.content.length : 0, 124, 12);
  writeOctal(header, FIXED_MTIME, 136, 12);
  header.write('        ', 148, 8, 'ascii'); // checksum field counts as spaces while summing
  header.write(entry.type === 'file' ? '0' : entry.type === 'dir' ? '5' : '2', 156, 1, 'ascii');
  if (entry.type === 'symlink') writeString(header, entry.target, 157, 100, 'symlink target');
  header.write('ustar\0', 257, 6, 'ascii');
  header.write('00', 263, 2, 'ascii');
  writeString(header, 'root', 265, 32, 'uname');
  writeString(header, 'root', 297, 32, 'gname');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return header;
}

/** Serialises entries in the given order into one tar archive (ends with two zero blocks). */
export function createTar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    parts.push(headerFor(entry));
    if (entry.type === 'file') {
      parts.push(entry.content);
      const pad = (BLOCK - (entry.content.length % BLOCK)) % BLOCK;
      if (pad > 0) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

export interface TarReadEntry {
  name: string;
  type: 'file' | 'dir' | 'symlink' | 'other';
  content: Buffer;
  target: string;
}

function readString(block: Buffer, offset: number, length: number): string {
  const raw = block.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
}

/** Reads a ustar archive (the subset createTar writes, plus the ustar name prefix). */
export function readTar(archive: Buffer): TarReadEntry[] {
  const entries: TarReadEntry[] = [];
  let offset = 0;
  while (offset + BLOCK <= archive.length) {
    const block = archive.subarray(offset, offset + BLOCK);
    if (block.every((b) => b === 0)) break;
    const prefix = readString(block, 345, 155);
    const base = readString(block, 0, 100);
    const name = prefix ? `${prefix}/${base}` : base;
    const size = parseInt(readString(block, 124, 12).trim() || '0', 8);
    if (!Number.isFinite(size) || size < 0) throw new Error(`tar: bad size field for entry "${name}"`);
    const flag = String.fromCharCode(block[156] ?? 0);
    const type =
      flag === '0' || flag === '\0' ? 'file' : flag === '5' ? 'dir' : flag === '2' ? 'symlink' : 'other';
    const start = offset + BLOCK;
    if (start + size > archive.length)
      throw new Error(`tar: entry "${name}" runs past the end of the archive`);
    entries.push({
      name,
      type,
      content: archive.subarray(start, start + size),
      target: readString(block, 157, 100),
    });
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  return entries;
}

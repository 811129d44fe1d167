/**
 * Whether every zstd frame of a file carries its content checksum (the frame header's Content_Checksum_flag,
 * RFC 8878 §3.1.1.1.1), read from the headers alone: each block header gives the block's size, so the blocks
 * are skipped, never decompressed. Skippable frames carry no data and need none.
 */
import { open } from 'node:fs/promises';

const ZSTD_MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;

export type FrameChecksums =
  | { readonly kind: 'all'; readonly frames: number }
  | { readonly kind: 'missing'; readonly frame: number }
  | { readonly kind: 'malformed'; readonly reason: string };

/** Reads `length` bytes at `offset`; fewer at the end of the file. */
export type ReadAt = (offset: number, length: number) => Promise<Buffer>;

export async function frameChecksums(read: ReadAt, size: number): Promise<FrameChecksums> {
  let offset = 0;
  let frames = 0;
  while (offset < size) {
    const head = await read(offset, 18);
    if (head.length < 4) return { kind: 'malformed', reason: `${size - offset} stray byte(s) at the end` };
    const magic = head.readUInt32LE(0);
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      if (head.length < 8) return { kind: 'malformed', reason: 'a truncated skippable frame' };
      offset += 8 + head.readUInt32LE(4);
      continue;
    }
    if (magic !== ZSTD_MAGIC) return { kind: 'malformed', reason: `no zstd frame at byte ${offset}` };
    frames++;
    const descriptor = head[4]!;
    const singleSegment = (descriptor >> 5) & 1;
    const checksum = (descriptor >> 2) & 1;
    const dictBytes = [0, 1, 2, 4][descriptor & 3]!;
    const fcsFlag = descriptor >> 6;
    const fcsBytes = fcsFlag === 0 ? singleSegment : 1 << fcsFlag;
    if (checksum === 0) return { kind: 'missing', frame: frames };
    offset += 4 + 1 + (singleSegment ? 0 : 1) + dictBytes + fcsBytes;
    for (let last = 0; last === 0;) {
      const block = await read(offset, 3);
      if (block.length < 3)
        return { kind: 'malformed', reason: `frame ${frames} ends before its last block` };
      const header = block[0]! | (block[1]! << 8) | (block[2]! << 16);
      last = header & 1;
      const type = (header >> 1) & 3;
      const blockSize = header >>> 3;
      if (type === 3) return { kind: 'malformed', reason: `frame ${frames} has a reserved block type` };
      offset += 3 + (type === 1 ? 1 : blockSize);
    }
    offset += 4; // the checksum
  }
  if (offset > size) return { kind: 'malformed', reason: 'the last frame is truncated' };
  return { kind: 'all', frames };
}

/** `frameChecksums` of a file on disk. */
export async function fileFrameChecksums(path: string): Promise<FrameChecksums> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    return await frameChecksums(async (offset, length) => {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buf, 0, length, offset);
      return buf.subarray(0, bytesRead);
    }, size);
  } finally {
    await handle.close();
  }
}

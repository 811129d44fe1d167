/**
 * Decoding of short keys through a small cache. A meta.db repeats the same few field names ("name",
 * "createdat", "labels", "containerd.io/snapshot.ref", …) in every record, and turning bytes into a string
 * through Buffer costs far more than hashing a few bytes in JavaScript. Only pure-ASCII keys are cached,
 * so a hit can be confirmed byte for byte against the cached string's char codes.
 */
const MAX_CACHED_LENGTH = 32;
const MAX_ENTRIES = 4096;
const cache = new Map<number, string>();

export function decodeKey(buf: Buffer, start: number, end: number): string {
  const length = end - start;
  if (length > MAX_CACHED_LENGTH) return buf.toString('utf8', start, end);
  let hash = length;
  for (let i = start; i < end; i++) {
    const byte = buf[i]!;
    if (byte >= 0x80) return buf.toString('utf8', start, end);
    hash = (Math.imul(hash, 31) + byte) | 0;
  }
  const hit = cache.get(hash);
  if (hit !== undefined && hit.length === length && sameBytes(hit, buf, start)) return hit;
  const text = buf.toString('latin1', start, end);
  if (hit !== undefined || cache.size < MAX_ENTRIES) cache.set(hash, text);
  return text;
}

function sameBytes(text: string, buf: Buffer, start: number): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) !== buf[start + i]) return false;
  return true;
}

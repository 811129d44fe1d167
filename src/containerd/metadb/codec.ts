/**
 * Decoders for the value encodings containerd stores in meta.db: Go's time.MarshalBinary, Go's
 * binary.PutVarint (zigzag LEB128) and raw UTF-8 strings. Each returns undefined for malformed input so
 * the caller can name the field in its error.
 */

/** Seconds from 0001-01-01T00:00:00Z (Go's internal epoch) to the Unix epoch. */
const GO_EPOCH_TO_UNIX = 62135596800;
const TIME_V1_LENGTH = 15;
const TIME_V2_LENGTH = 16;
const MAX_DATE_MS = 8.64e15;

/**
 * Go time.MarshalBinary: [0] version 1 or 2, [1..8] int64 BE seconds since year 1, [9..12] int32 BE
 * nanoseconds, [13..14] int16 BE zone offset in minutes (-1 = UTC), and for version 2 [15] the offset's
 * seconds. The offset does not change the instant, so it is ignored. Precision drops to milliseconds.
 */
export function decodeGoTime(value: Uint8Array): Date | undefined {
  const version = value[0];
  const expected = version === 1 ? TIME_V1_LENGTH : version === 2 ? TIME_V2_LENGTH : -1;
  if (value.byteLength !== expected) return undefined;
  // Plain arithmetic instead of a DataView and a bigint: this runs for every record. High word signed,
  // low word unsigned; any real date is far inside the exact range of a double.
  const high = (value[1]! << 24) | (value[2]! << 16) | (value[3]! << 8) | value[4]!;
  const low = ((value[5]! << 24) | (value[6]! << 16) | (value[7]! << 8) | value[8]!) >>> 0;
  const nanos = (value[9]! << 24) | (value[10]! << 16) | (value[11]! << 8) | value[12]!;
  if (nanos < 0 || nanos >= 1e9) return undefined;
  const ms = (high * 2 ** 32 + low - GO_EPOCH_TO_UNIX) * 1000 + Math.floor(nanos / 1e6);
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_DATE_MS) return undefined;
  return new Date(ms);
}

/** Go binary.Varint: zigzag-encoded LEB128, at most 10 bytes. */
export function decodeVarint(value: Uint8Array): bigint | undefined {
  let raw = 0n;
  let shift = 0n;
  for (let i = 0; i < value.byteLength; i++) {
    const byte = value[i]!;
    if (i === 9 && byte > 1) return undefined;
    raw |= BigInt(byte & 0x7f) << shift;
    // Like Go's binary.Varint (which containerd uses), bytes after the terminating one are ignored.
    if (byte < 0x80) {
      return raw & 1n ? -((raw >> 1n) + 1n) : raw >> 1n;
    }
    shift += 7n;
    if (i === 9) return undefined;
  }
  return undefined;
}

/** A varint that fits a JavaScript number exactly. */
export function decodeVarintNumber(value: Uint8Array): number | undefined {
  const n = decodeVarint(value);
  if (n === undefined || n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER))
    return undefined;
  return Number(n);
}

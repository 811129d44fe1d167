/** Field readers shared by the record decoders: each names the field's bucket path when a value is malformed. */
import type { BoltBucket } from './bucket.js';
import { decodeGoTime, decodeVarintNumber } from './codec.js';
import { MetaDbFormatError } from './errors.js';
import type { Labels } from './types.js';

export interface DecodeContext {
  readonly file: string;
}

/** A bucket path for messages, built only when one is needed. */
export type Where = () => string;

export function malformed(ctx: DecodeContext, where: string, problem: string): MetaDbFormatError {
  return new MetaDbFormatError(ctx.file, `${where}: ${problem}`, {
    hint: 'containerd would fail to read this record too; restore meta.db from a backup or report the file',
  });
}

export function readTime(
  ctx: DecodeContext,
  value: Uint8Array | undefined,
  where: Where,
  field: string,
): Date | undefined {
  if (value === undefined) return undefined;
  const time = decodeGoTime(value);
  if (!time) {
    throw malformed(
      ctx,
      `${where()}/${field}`,
      `not a Go binary timestamp (${value.byteLength} bytes, version ${value[0]})`,
    );
  }
  return time;
}

export function readSize(
  ctx: DecodeContext,
  value: Uint8Array | undefined,
  where: Where,
  field: string,
): number | undefined {
  if (value === undefined) return undefined;
  const size = decodeVarintNumber(value);
  if (size === undefined) throw malformed(ctx, `${where()}/${field}`, 'not a Go varint');
  return size;
}

/** Every plain value of a bucket as a string map (sub-buckets skipped, as containerd's ReadLabels does). */
export function readLabels(bucket: BoltBucket | undefined): Labels {
  const labels: Labels = {};
  bucket?.forEach((key, e) => {
    const value = e.text();
    if (value === undefined) return;
    // Plain assignment of "__proto__" would replace the prototype instead of adding a label.
    if (key === '__proto__')
      Object.defineProperty(labels, key, { value, enumerable: true, writable: true, configurable: true });
    else labels[key] = value;
  });
  return labels;
}

/** The keys of a bucket, values and sub-buckets alike (children, lease resources). */
export function readKeys(bucket: BoltBucket | undefined): string[] {
  const keys: string[] = [];
  bucket?.forEach((key) => keys.push(key));
  return keys;
}

/** Calls `fn` for each sub-bucket; plain values in between are skipped, as containerd does. */
export function forEachBucket(
  bucket: BoltBucket | undefined,
  fn: (key: string, child: BoltBucket) => void,
): void {
  bucket?.forEach((key, e) => {
    const child = e.bucket();
    if (child) fn(key, child);
  });
}

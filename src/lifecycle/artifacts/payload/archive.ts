/**
 * Component tarballs (`kata-static-<component>.tar.zst`) read as a stream: the file is decompressed by libzstd
 * (zstd-napi, which checks each frame's content checksum and fails on a truncated frame) and parsed by
 * tar-stream (which checks each header's checksum), one member at a time, without unpacking anything to disk.
 * Members live under `opt/kata/` (or `./opt/kata/`); that prefix is stripped, anything else is skipped, as
 * upstream does. A member name with `..`, an absolute name, or a member that is neither a file, a directory, a
 * symlink nor a hard link refuses the payload.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract } from 'tar-stream';
import { DecompressStream } from 'zstd-napi';
import { quoteValue, UsageError } from '../../../errors/index.js';

export interface Member {
  /** The name in the archive. */
  readonly name: string;
  /** Path under `opt/kata/`, relative; `''` is `opt/kata` itself. */
  readonly rel: string;
  readonly type: 'file' | 'dir' | 'symlink' | 'link';
  readonly mode: number;
  /** Symlink target as written; for a hard link, the member name it links to. */
  readonly linkname: string | undefined;
}

const PREFIX = 'opt/kata';

function refuse(archive: string, what: string): never {
  throw new UsageError(`${archive}: ${what}`, {
    input: archive,
    hint: 'use an intact payload (the tarballs kata-deploy’s image ships); nothing was changed on the node',
  });
}

/** The member's path under `opt/kata/`; undefined for members outside it. */
export function relativeMember(archive: string, name: string): string | undefined {
  if (name.startsWith('/')) refuse(archive, `member ${quoteValue(name)} has an absolute name`);
  const trimmed = name.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  if (trimmed.split('/').includes('..')) refuse(archive, `member ${quoteValue(name)} leads out of opt/kata`);
  if (trimmed === PREFIX) return '';
  if (!trimmed.startsWith(`${PREFIX}/`)) return undefined;
  const rel = trimmed.slice(PREFIX.length + 1);
  if (rel.split('/').some((s) => s === '' || s === '.'))
    refuse(archive, `member ${quoteValue(name)} is not a plain path`);
  return rel;
}

const TYPES: Record<string, Member['type']> = {
  file: 'file',
  'contiguous-file': 'file',
  directory: 'dir',
  symlink: 'symlink',
  link: 'link',
};

/** Hashes the bytes that flow through it (the compressed archive) and passes them on. */
class Tap extends Transform {
  constructor(private readonly hash: Hash) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    done(null, chunk);
  }
}

/**
 * Streams `archive` and calls `visit` for every member under `opt/kata/`, with its data for files (it must be
 * read to the end or left alone; what is left is drained). Returns the sha256 of the compressed archive.
 */
export async function forEachMember(
  archive: string,
  visit: (member: Member, data: AsyncIterable<Buffer> | undefined) => Promise<void>,
): Promise<string> {
  const hash = createHash('sha256');
  const tar = extract();
  const feeding = pipeline(createReadStream(archive), new Tap(hash), new DecompressStream(), tar);
  feeding.catch(() => undefined); // awaited below; the iteration sees the same failure
  try {
    for await (const entry of tar) {
      const header = entry.header;
      const rel = relativeMember(archive, header.name);
      const type = TYPES[header.type];
      if (rel !== undefined && type === undefined)
        refuse(archive, `member ${quoteValue(header.name)} is a ${header.type}, which a payload never holds`);
      if (rel !== undefined && type !== undefined) {
        const member: Member = {
          name: header.name,
          rel,
          type,
          mode: header.mode & 0o7777,
          linkname: type === 'symlink' || type === 'link' ? header.linkname : undefined,
        };
        await visit(member, type === 'file' ? (entry as AsyncIterable<Buffer>) : undefined);
      }
      entry.resume();
    }
    await feeding;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    refuse(archive, `cannot read it: ${error instanceof Error ? error.message : String(error)}`);
  }
  return hash.digest('hex');
}

/** sha256 of a file's bytes, streamed. */
export async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

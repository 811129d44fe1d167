/**
 * Observing a component payload (upstream's: `shim-components.json`, `tarballs/kata-static-<c>.tar.zst`,
 * `versions.yaml`): which tarballs this install needs, their integrity, and every file they hold, hashed, as
 * the payload entries the artifacts planner works from. A tarball is read in one streamed pass (decompressed,
 * never unpacked to disk); its index is kept for the process, so observing again under the lock costs nothing.
 *
 * Integrity: with `tarballs/SHA256SUMS` in the payload every needed tarball must be listed there and match it
 * (a cryptographic hash of the whole archive: a swapped or altered tarball is refused, not only a damaged one);
 * without it every zstd frame must carry its content checksum, which libzstd verifies while decompressing
 * (upstream's `tar --zstd` writes one by default). A tarball vouched for by neither is refused.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { UsageError } from '../../../errors/index.js';
import { sha256File } from '../../../host/index.js';
import { lstatIfExists } from '../../../host/fs.js';
import type { Names } from '../../../names/index.js';
import type { Settings } from '../../../settings/index.js';
import type { TreeFact } from '../plan.js';
import { forEachMember, relativeMember } from './archive.js';
import {
  chooseComponents,
  parseSha256Sums,
  parseShimComponents,
  SHA256SUMS,
  SHIM_COMPONENTS,
  TARBALLS_DIR,
  tarballName,
} from './manifest.js';
import { fileFrameChecksums } from './zstd-frames.js';

export { SHIM_COMPONENTS };

export interface ComponentPayload {
  readonly entries: ReadonlyMap<string, TreeFact>;
  /** Text of the wanted files (shipped configurations, the devkit root hash), by relative path. */
  readonly texts: ReadonlyMap<string, string>;
  /** Every tarball used, with the sha256 SHA256SUMS lists for it (undefined without a list). */
  readonly archives: ReadonlyMap<string, { readonly sha256: string | undefined }>;
}

interface ArchiveIndex {
  readonly sha256: string;
  readonly entries: Map<string, TreeFact>;
  readonly texts: Map<string, string>;
}

const indexes = new Map<string, ArchiveIndex>();

/** Reads a tarball once: every member under opt/kata/, files hashed; `wanted` files kept as text. */
async function indexArchive(path: string, wanted: ReadonlySet<string>): Promise<ArchiveIndex> {
  const st = await stat(path, { bigint: true });
  const key = `${path}:${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${[...wanted].sort().join(',')}`;
  const known = indexes.get(key);
  if (known !== undefined) return known;
  const entries = new Map<string, TreeFact>();
  const texts = new Map<string, string>();
  const byMember = new Map<string, TreeFact>();
  const sha256 = await forEachMember(path, async (m, data) => {
    if (m.rel === '') return;
    let fact: TreeFact;
    if (m.type === 'dir') fact = { type: 'dir', mode: m.mode };
    else if (m.type === 'symlink') fact = { type: 'symlink', mode: m.mode, linkTarget: m.linkname ?? '' };
    else if (m.type === 'link') {
      const targetRel = relativeMember(path, m.linkname ?? '');
      const target =
        [...byMember.values()].find((f) => f.archive?.member === m.linkname) ??
        (targetRel === undefined ? undefined : entries.get(targetRel));
      if (target?.type !== 'file') {
        throw new UsageError(
          `${path}: hard link ${m.name} points at ${m.linkname ?? ''}, which is no file before it`,
          {
            input: path,
            hint: 'use an intact payload; nothing was changed on the node',
          },
        );
      }
      fact = { ...target, mode: m.mode };
      if (wanted.has(m.rel) && targetRel !== undefined && texts.has(targetRel))
        texts.set(m.rel, texts.get(targetRel)!);
    } else {
      const hash = createHash('sha256');
      const keep = wanted.has(m.rel);
      const chunks: Buffer[] = [];
      for await (const chunk of data!) {
        hash.update(chunk);
        if (keep) chunks.push(chunk);
      }
      if (keep) texts.set(m.rel, Buffer.concat(chunks).toString('utf8'));
      fact = { type: 'file', mode: m.mode, sha256: hash.digest('hex'), archive: { path, member: m.name } };
    }
    byMember.set(m.name, fact);
    entries.set(m.rel, fact);
  });
  const index = { sha256, entries, texts };
  indexes.set(key, index);
  return index;
}

function refuse(message: string, input: string, hint: string): never {
  throw new UsageError(message, { input, hint: `${hint}; nothing was changed on the node` });
}

export async function componentPayloadFacts(
  settings: Settings,
  names: Names,
  wanted: readonly string[],
): Promise<ComponentPayload> {
  const dir = settings.artifactsDir;
  const manifestFile = `${dir}/${SHIM_COMPONENTS}`;
  const manifest = parseShimComponents(await readFile(manifestFile, 'utf8'), manifestFile);
  const choice = chooseComponents(manifest, manifestFile, {
    bases: [...new Set(names.handlers.map((h) => h.shim))],
    arch: settings.arch,
    debug: settings.debug,
    devkit: settings.devkit,
  });
  const sumsFile = `${dir}/${TARBALLS_DIR}/${SHA256SUMS}`;
  const sumsText = (await lstatIfExists(sumsFile))?.isFile() ? await readFile(sumsFile, 'utf8') : undefined;
  const sums = sumsText === undefined ? undefined : parseSha256Sums(sumsText, sumsFile);

  const entries = new Map<string, TreeFact>();
  const texts = new Map<string, string>();
  const archives = new Map<string, { sha256: string | undefined }>();
  const wantedSet = new Set(wanted);
  for (const component of [...choice.required, ...choice.optional]) {
    const name = tarballName(component);
    const path = `${dir}/${TARBALLS_DIR}/${name}`;
    if (!(await lstatIfExists(path))?.isFile()) {
      if (choice.optional.includes(component)) continue; // a debug tool the image was built without
      refuse(
        `${manifestFile} needs component ${component}, but ${path} does not exist`,
        path,
        'use a payload that ships every component its shim-components.json names',
      );
    }
    const listed = sums?.get(name);
    if (sums !== undefined && listed === undefined)
      refuse(`${path} is not listed in ${sumsFile}`, sumsFile, `add its sha256 to ${sumsFile}`);
    if (sums === undefined) {
      const frames = await fileFrameChecksums(path);
      if (frames.kind !== 'all') {
        refuse(
          frames.kind === 'missing'
            ? `${path}: zstd frame ${frames.frame} carries no content checksum, and the payload has no ${TARBALLS_DIR}/${SHA256SUMS}, so nothing vouches for its content`
            : `${path} is not a zstd archive: ${frames.reason}`,
          path,
          `compress the tarball with checksums (zstd's default), or ship ${sumsFile} with its sha256`,
        );
      }
    }
    const index = await indexArchive(path, wantedSet);
    if (listed !== undefined && listed !== index.sha256)
      refuse(
        `${path} has sha256 ${index.sha256}, but ${sumsFile} lists ${listed}`,
        path,
        'the tarball is not the one the payload lists: use an intact payload',
      );
    archives.set(path, { sha256: listed });
    for (const [rel, fact] of index.entries) entries.set(rel, fact);
    for (const [rel, text] of index.texts) texts.set(rel, text);
  }
  const versions = `${dir}/versions.yaml`;
  const versionsStat = await lstatIfExists(versions);
  if (versionsStat?.isFile()) {
    entries.set('versions.yaml', {
      type: 'file',
      mode: versionsStat.mode & 0o7777,
      sha256: await sha256File(versions),
    });
  }
  return { entries, texts, archives };
}

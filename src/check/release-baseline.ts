/**
 * The release check's baseline: the Kata Containers release this kata-deploy installs, read from the payload's
 * `versions.yaml` (beside the tarballs in kata-deploy's image, `/opt/kata-artifacts/versions.yaml`, and copied
 * into the install dir, `/opt/kata/versions.yaml`). The release is the `version` of a top-level
 * `kata-containers` entry, in the file's own `<project>: version: "<version>"` format. Upstream's versions.yaml
 * (kata-containers 7c6ba40) lists the components' versions and names no Kata release: with it the baseline is
 * unknown, and the check says so rather than comparing with a number nobody read.
 */
import { readFile } from 'node:fs/promises';
import { isErrno } from '../errors/index.js';

export type Baseline =
  | { readonly kind: 'known'; readonly version: string; readonly source: string }
  | { readonly kind: 'unknown'; readonly reasons: readonly string[] };

/** `kata-containers:` → `version:` at the top level of versions.yaml; undefined when it is not there. */
export function kataReleaseOf(text: string): string | undefined {
  let inEntry = false;
  let indent: number | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\s+#.*$/, '').replace(/\s+$/, '');
    if (line === '' || line.trimStart().startsWith('#')) continue;
    const depth = line.length - line.trimStart().length;
    if (depth === 0) {
      inEntry = /^kata-containers:$/.test(line);
      indent = undefined;
      continue;
    }
    if (!inEntry) continue;
    indent ??= depth;
    if (depth !== indent) continue;
    const m = /^\s+version:\s*(?:"([^"]*)"|'([^']*)'|(\S+))$/.exec(line);
    if (m) return m[1] ?? m[2] ?? m[3];
  }
  return undefined;
}

/** The first candidate file that names the release; why not, for each one that does not. */
export async function readBaseline(
  candidates: readonly string[],
  read: (path: string) => Promise<string> = (p) => readFile(p, 'utf8'),
): Promise<Baseline> {
  const reasons: string[] = [];
  for (const path of candidates) {
    let text: string;
    try {
      text = await read(path);
    } catch (error) {
      reasons.push(
        isErrno(error, 'ENOENT', 'ENOTDIR') ? `${path} does not exist` : `${path}: ${String(error)}`,
      );
      continue;
    }
    const version = kataReleaseOf(text);
    if (version !== undefined) return { kind: 'known', version, source: path };
    reasons.push(`${path} names no Kata Containers release (no kata-containers: version: entry)`);
  }
  return { kind: 'unknown', reasons };
}

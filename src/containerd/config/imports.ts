/**
 * containerd's `imports`, resolved the way containerd resolves them: an entry containing `*` is a glob
 * (Go's filepath.Glob, so `?`, `[...]` classes and `\` escapes apply too), every other entry is a plain path,
 * and a relative entry is joined to the directory of the file that imports it. One place for this, because
 * the lifecycle (does the config already import our drop-in?) and the meta.db locator (which files set
 * `root`?) must agree with containerd and with each other.
 */
import { basename, dirname, isAbsolute, join } from 'node:path';

/** The import entry as an absolute path or pattern. */
export function importPath(importingFile: string, entry: string): string {
  return isAbsolute(entry) ? entry : join(dirname(importingFile), entry);
}

/** containerd globs an entry only when it contains `*`. */
export const isGlobImport = (entry: string): boolean => entry.includes('*');

/**
 * Go's filepath.Match for one path segment: `*` any run of non-`/` characters, `?` one, `[...]` a class
 * (`^` negates, `a-z` ranges, a reversed range matches nothing as in Go), `\` escapes. A malformed pattern
 * (an unclosed class) matches nothing.
 */
export function matchSegment(pattern: string, name: string): boolean {
  const match = (p: number, n: number): boolean => {
    while (p < pattern.length) {
      const ch = pattern[p]!;
      if (ch === '*') {
        for (let k = n; k <= name.length; k++) {
          if (k > n && name[k - 1] === '/') return false;
          if (match(p + 1, k)) return true;
        }
        return false;
      }
      if (n >= name.length || name[n] === '/') return false;
      if (ch === '?') {
        p++;
        n++;
        continue;
      }
      if (ch === '[') {
        const end = classEnd(pattern, p + 1);
        if (end === -1) return false;
        if (!inClass(pattern.slice(p + 1, end), name[n]!)) return false;
        p = end + 1;
        n++;
        continue;
      }
      const literal = ch === '\\' && p + 1 < pattern.length ? pattern[++p]! : ch;
      if (literal !== name[n]) return false;
      p++;
      n++;
    }
    return n === name.length;
  };
  return match(0, 0);
}

function classEnd(pattern: string, from: number): number {
  let i = from;
  if (pattern[i] === '^') i++;
  for (let first = true; i < pattern.length; i++, first = false) {
    if (pattern[i] === '\\') i++;
    else if (pattern[i] === ']' && !first) return i;
  }
  return -1;
}

function inClass(body: string, ch: string): boolean {
  const negated = body.startsWith('^');
  let i = negated ? 1 : 0;
  const next = (): string => {
    const c = body[i++] === '\\' ? body[i++] : body[i - 1];
    return c ?? '';
  };
  let found = false;
  while (i < body.length) {
    const lo = next();
    let hi = lo;
    if (body[i] === '-' && i + 1 < body.length) {
      i++;
      hi = next();
    }
    if (lo <= ch && ch <= hi) found = true;
  }
  return found !== negated;
}

/** Whether an import entry of `importingFile` names `path` (a glob that matches it, or the path itself). */
export function importCovers(importingFile: string, entry: string, path: string): boolean {
  const full = importPath(importingFile, entry);
  if (!isGlobImport(entry)) return full === path;
  return dirname(full) === dirname(path) && matchSegment(basename(full), basename(path));
}

/**
 * The files an `imports` list names, in containerd's order: each glob's matches sorted, paths as written.
 * Wildcards are supported in the file name, where drop-in layouts put them; an entry with one in a
 * directory component is skipped. `list` gives a directory's entries, [] when it does not exist.
 */
export async function resolveImports(
  importingFile: string,
  imports: readonly string[],
  list: (dir: string) => Promise<string[]>,
): Promise<string[]> {
  const out: string[] = [];
  for (const entry of imports) {
    const path = importPath(importingFile, entry);
    if (!isGlobImport(entry)) {
      out.push(path);
      continue;
    }
    const dir = dirname(path);
    if (dir.includes('*')) continue;
    const pattern = basename(path);
    out.push(
      ...(await list(dir))
        .filter((name) => matchSegment(pattern, name))
        .sort()
        .map((name) => join(dir, name)),
    );
  }
  return out;
}

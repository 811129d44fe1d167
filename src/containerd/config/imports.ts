/**
 * containerd's `imports`, resolved the way containerd resolves them: an entry containing `*` is a glob
 * (Go's filepath.Glob, so `?`, `[...]` classes and `\` escapes apply too), every other entry is a plain path,
 * and a relative entry is joined to the directory of the file that imports it. One place for this, because
 * the lifecycle (does the config already import our drop-in?) and the meta.db locator (which files set
 * `root`?) must agree with containerd and with each other.
 */
import { basename, dirname, isAbsolute, join } from 'node:path';
import { parseToml } from './toml.js';

/** The import entry as an absolute path or pattern. */
function importPath(importingFile: string, entry: string): string {
  return isAbsolute(entry) ? entry : join(dirname(importingFile), entry);
}

/** containerd globs an entry only when it contains `*`. */
const isGlobImport = (entry: string): boolean => entry.includes('*');

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
  const patterns = full.split('/');
  const names = path.split('/');
  return patterns.length === names.length && patterns.every((p, i) => matchSegment(p, names[i]!));
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

export interface ImportReader {
  /** A file's text; undefined when it does not exist. */
  read(nodePath: string): Promise<string | undefined>;
  /** The names in a directory; [] when it does not exist. */
  list(nodeDir: string): Promise<string[]>;
}

/** The `imports` entries of a parsed config file (non-empty strings only). */
export function importEntries(doc: Record<string, unknown>): string[] {
  const imports = doc['imports'];
  return Array.isArray(imports) ? imports.filter((i): i is string => typeof i === 'string' && i !== '') : [];
}

/**
 * Every file the main config imports, directly or not, in the order containerd merges them (breadth first
 * from the main file, each file once), with its text. Missing files are left out: containerd skips an import
 * that matches nothing. A file that is not TOML imports nothing here (whoever needs its content reports it;
 * containerd would refuse it too).
 */
export async function readImportedConfigs(
  mainPath: string,
  mainText: string | undefined,
  reader: ImportReader,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (mainText === undefined) return out;
  const pending: { path: string; text: string }[] = [{ path: mainPath, text: mainText }];
  const loaded = new Set([mainPath]);
  while (pending.length > 0) {
    const { path, text } = pending.shift()!;
    let doc: Record<string, unknown>;
    try {
      doc = parseToml(text, path);
    } catch {
      continue;
    }
    for (const next of await resolveImports(path, importEntries(doc), (dir) => reader.list(dir))) {
      if (loaded.has(next)) continue;
      loaded.add(next);
      const content = await reader.read(next);
      if (content === undefined) continue;
      out.set(next, content);
      pending.push({ path: next, text: content });
    }
  }
  return out;
}

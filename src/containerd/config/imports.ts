/**
 * The files containerd loads besides its main config: `imports`, followed as containerd follows them (breadth
 * first from the main file, each file once, globs in the file name in lexical order). Reads go through the
 * callbacks, so this stays free of I/O; paths are node paths.
 */
import { resolveImports } from '../metadb/path.js';
import { parseToml } from './toml.js';

export interface ImportReader {
  /** A file's text; undefined when it does not exist. */
  read(nodePath: string): Promise<string | undefined>;
  /** The names in a directory; [] when it does not exist. */
  list(nodeDir: string): Promise<string[]>;
}

/**
 * Every file the main config imports, directly or not, in the order containerd merges them, with its text.
 * Missing files are left out (containerd skips an import that matches nothing).
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
    let imports;
    try {
      imports = parseToml(text, path)['imports'];
    } catch {
      continue; // Not TOML: whoever needs this file's content reports it; containerd would refuse it too.
    }
    if (!Array.isArray(imports)) continue;
    const entries = imports.filter((i): i is string => typeof i === 'string' && i !== '');
    for (const next of await resolveImports(path, entries, (dir) => reader.list(dir))) {
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

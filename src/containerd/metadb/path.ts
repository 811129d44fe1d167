/** Where meta.db lives: explicit path, introspection export, containerd config `root`, or the default root. */
import { readFile, readdir } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join } from 'node:path';

import { parse } from '@decimalturn/toml-patch';

import { UsageError, isErrno } from '../../errors/errors.js';
import { seenFromHere } from '../../host/paths.js';
import { METADATA_FILE, METADATA_PLUGIN_DIR } from './schema.js';

export const DEFAULT_CONTAINERD_ROOT = '/var/lib/containerd';

export function defaultMetaDbPath(containerdRoot: string = DEFAULT_CONTAINERD_ROOT): string {
  return join(containerdRoot, METADATA_PLUGIN_DIR, METADATA_FILE);
}

function parseConfig(toml: string, source: string): Record<string, unknown> {
  try {
    return (parse(toml) as Record<string, unknown> | null) ?? {};
  } catch (error) {
    throw new UsageError(`${source} is not valid TOML: ${(error as Error).message}`, {
      input: source,
      cause: error,
    });
  }
}

function rootOf(doc: Record<string, unknown>, source: string): string | undefined {
  const root = doc['root'];
  if (root === undefined) return undefined;
  if (typeof root !== 'string' || root === '') {
    throw new UsageError(`${source}: "root" must be a non-empty string`, { input: source });
  }
  return root;
}

/** containerd's `root` from the text of its config (v2 or v3); undefined when the config leaves it default. */
export function containerdRootFromConfig(toml: string, source = 'containerd config'): string | undefined {
  return rootOf(parseConfig(toml, source), source);
}

const globToRegExp = (glob: string): RegExp =>
  new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replaceAll('*', '[^/]*')
      .replaceAll('?', '[^/]')}$`,
  );

/**
 * The files an `imports` list names, as containerd resolves them: an entry with `*` is a glob (its matches in
 * lexical order; we support wildcards in the file name, which is where drop-in directories put them), any
 * other entry is a path, relative ones against the importing file's directory. `list` gives a directory's
 * entries, or [] when it does not exist.
 */
export async function resolveImports(
  importingFile: string,
  imports: readonly string[],
  list: (dir: string) => Promise<string[]>,
): Promise<string[]> {
  const out: string[] = [];
  for (const entry of imports) {
    const path = isAbsolute(entry) ? entry : join(dirname(importingFile), entry);
    if (!entry.includes('*')) {
      out.push(path);
      continue;
    }
    const dir = dirname(path);
    if (dir.includes('*')) continue;
    const pattern = globToRegExp(basename(path));
    out.push(
      ...(await list(dir))
        .filter((name) => pattern.test(name))
        .sort()
        .map((name) => join(dir, name)),
    );
  }
  return out;
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR')) return undefined;
    throw error;
  }
}

async function listIfExists(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR')) return [];
    throw error;
  }
}

/**
 * `root` after containerd has merged the config and everything it imports: files are loaded breadth first
 * from the main one, each once, and a later file's `root` overrides an earlier one's. Paths inside the
 * files are node paths, read here under `hostRoot`.
 */
async function rootFromConfigFiles(configPath: string, hostRoot: string): Promise<string | undefined> {
  const here = (nodePath: string): string => seenFromHere(nodePath, hostRoot);
  const main =
    hostRoot !== '/' && configPath.startsWith(`${join(hostRoot)}/`)
      ? configPath.slice(join(hostRoot).length)
      : configPath;
  const pending = [main];
  const loaded = new Set<string>();
  let root: string | undefined;
  while (pending.length > 0) {
    const file = pending.shift() as string;
    if (loaded.has(file)) continue;
    loaded.add(file);
    const source = here(file);
    const text = await readIfExists(source);
    if (text === undefined) continue;
    const doc = parseConfig(text, source);
    root = rootOf(doc, source) ?? root;
    const imports = doc['imports'];
    if (Array.isArray(imports)) {
      const names = imports.filter((i): i is string => typeof i === 'string' && i !== '');
      pending.push(...(await resolveImports(file, names, (dir) => listIfExists(here(dir)))));
    }
  }
  return root;
}

export type MetaDbPathSource = 'flag' | 'introspection' | 'config' | 'default';

export interface MetaDbLocation {
  readonly path: string;
  readonly source: MetaDbPathSource;
}

export interface FindMetaDbOptions {
  /** An explicit path (the `--meta-db` flag) wins over everything. */
  readonly metaDbPath?: string;
  /** `exports.path` of the `io.containerd.metadata.v1`/`bolt` plugin, from introspection. */
  readonly introspectionPath?: string;
  /** containerd's config file as seen from here; a missing file means containerd runs with its default root. */
  readonly configPath?: string;
  /** Where the node's file system is seen from here: `imports` in the config are node paths under it. @default '/' */
  readonly hostRoot?: string;
}

/**
 * Resolves the meta.db path in order: flag, introspection, the config's `root` (following its `imports`
 * as containerd does), the default root. The last two are node paths: a caller under a host root maps them.
 */
export async function findMetaDbPath(options: FindMetaDbOptions = {}): Promise<MetaDbLocation> {
  if (options.metaDbPath) return { path: options.metaDbPath, source: 'flag' };
  if (options.introspectionPath) return { path: options.introspectionPath, source: 'introspection' };
  if (options.configPath) {
    const root = await rootFromConfigFiles(options.configPath, options.hostRoot ?? '/');
    if (root !== undefined) return { path: defaultMetaDbPath(root), source: 'config' };
  }
  return { path: defaultMetaDbPath(), source: 'default' };
}

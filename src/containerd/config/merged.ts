/**
 * containerd's configuration as containerd itself assembles it from the main file and everything it imports:
 * files load breadth first from the main one, each once, and a later file's top-level value overrides an
 * earlier one's. Only what the read-only tools need is kept: `root` and the proxy plugins. Paths in the files
 * are node paths, read here under the host root.
 */
import { readFile, readdir } from 'node:fs/promises';
import { parse } from '@decimalturn/toml-patch';
import { UsageError, isErrno } from '../../errors/errors.js';
import { seenFromHere } from '../../host/paths.js';
import { readImportedConfigs } from './imports.js';

export interface ProxyPluginConfig {
  readonly type: string | undefined;
  /** The plugin's socket (node path). */
  readonly address: string | undefined;
  /** `exports.root`: the plugin's data directory, when the config says it (node path). */
  readonly root: string | undefined;
  /** The file that defined it last. */
  readonly file: string;
}

export interface MergedContainerdConfig {
  /** Node path of the main file, and whether it exists. */
  readonly main: string;
  readonly mainExists: boolean;
  /** Every file that was read, in load order (node paths). */
  readonly files: readonly string[];
  /** `root` and the file that set it last; undefined when no file sets it. */
  readonly root: { readonly value: string; readonly file: string } | undefined;
  readonly proxyPlugins: ReadonlyMap<string, ProxyPluginConfig>;
}

function parseConfig(text: string, source: string): Record<string, unknown> {
  try {
    return (parse(text) as Record<string, unknown> | null) ?? {};
  } catch (error) {
    throw new UsageError(`${source} is not valid TOML: ${(error as Error).message}`, {
      input: source,
      cause: error,
    });
  }
}

const stringAt = (table: unknown, key: string): string | undefined => {
  if (typeof table !== 'object' || table === null) return undefined;
  const value = (table as Record<string, unknown>)[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
};

function rootOf(doc: Record<string, unknown>, source: string): string | undefined {
  const root = doc['root'];
  if (root === undefined) return undefined;
  if (typeof root !== 'string' || root === '') {
    throw new UsageError(`${source}: "root" must be a non-empty string`, { input: source });
  }
  return root;
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

/** `mainNodePath` is a node path; `hostRoot` is where the node's file system is seen from here. */
export async function readMergedContainerdConfig(
  mainNodePath: string,
  hostRoot = '/',
): Promise<MergedContainerdConfig> {
  const here = (nodePath: string): string => seenFromHere(nodePath, hostRoot);
  const mainText = await readIfExists(here(mainNodePath));
  const imported = await readImportedConfigs(mainNodePath, mainText, {
    read: (path) => readIfExists(here(path)),
    list: (dir) => listIfExists(here(dir)),
  });
  const texts: [string, string][] = mainText === undefined ? [] : [[mainNodePath, mainText], ...imported];
  let root: MergedContainerdConfig['root'];
  const proxyPlugins = new Map<string, ProxyPluginConfig>();
  for (const [file, text] of texts) {
    const source = here(file);
    const doc = parseConfig(text, source);
    const fileRoot = rootOf(doc, source);
    if (fileRoot !== undefined) root = { value: fileRoot, file };
    const plugins = doc['proxy_plugins'];
    if (typeof plugins !== 'object' || plugins === null) continue;
    for (const [name, body] of Object.entries(plugins as Record<string, unknown>)) {
      proxyPlugins.set(name, {
        type: stringAt(body, 'type'),
        address: stringAt(body, 'address'),
        root: stringAt((body as Record<string, unknown> | undefined)?.['exports'], 'root'),
        file,
      });
    }
  }
  return {
    main: mainNodePath,
    mainExists: mainText !== undefined,
    files: texts.map(([file]) => file),
    root,
    proxyPlugins,
  };
}

/** Where meta.db lives: explicit path, introspection export, containerd config `root`, or the default root. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { parse } from '@decimalturn/toml-patch';

import { UsageError, isErrno } from '../../errors/errors.js';
import { METADATA_FILE, METADATA_PLUGIN_DIR } from './schema.js';

export const DEFAULT_CONTAINERD_ROOT = '/var/lib/containerd';

export function defaultMetaDbPath(containerdRoot: string = DEFAULT_CONTAINERD_ROOT): string {
  return join(containerdRoot, METADATA_PLUGIN_DIR, METADATA_FILE);
}

/** containerd's `root` from the text of its config (v2 or v3); undefined when the config leaves it default. */
export function containerdRootFromConfig(toml: string, source = 'containerd config'): string | undefined {
  let doc: unknown;
  try {
    doc = parse(toml);
  } catch (error) {
    throw new UsageError(`${source} is not valid TOML: ${(error as Error).message}`, {
      input: source,
      cause: error,
    });
  }
  const root = (doc as Record<string, unknown> | null)?.['root'];
  if (root === undefined) return undefined;
  if (typeof root !== 'string' || root === '') {
    throw new UsageError(`${source}: "root" must be a non-empty string`, { input: source });
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
  /** containerd's config file; a missing file means containerd runs with its default root. */
  readonly configPath?: string;
}

/**
 * Resolves the meta.db path in order: flag, introspection, the config's `root`, the default root.
 * Drop-in files under `imports` that change `root` are not followed.
 */
export async function findMetaDbPath(options: FindMetaDbOptions = {}): Promise<MetaDbLocation> {
  if (options.metaDbPath) return { path: options.metaDbPath, source: 'flag' };
  if (options.introspectionPath) return { path: options.introspectionPath, source: 'introspection' };
  if (options.configPath) {
    let text: string | undefined;
    try {
      text = await readFile(options.configPath, 'utf8');
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw error;
    }
    const root = text === undefined ? undefined : containerdRootFromConfig(text, options.configPath);
    if (root !== undefined) return { path: defaultMetaDbPath(root), source: 'config' };
  }
  return { path: defaultMetaDbPath(), source: 'default' };
}

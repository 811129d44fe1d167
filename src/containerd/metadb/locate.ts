/**
 * The one meta.db locator. In order: `--meta-db`; the path containerd itself reports (its bolt plugin
 * exports it); containerd's root as the runtime starts it (unit, args file, config: see
 * containerd/root/runtime-root.ts). A path is evidence only when one of those named it and the file is
 * there: a default is never guessed, because another containerd's database (or none) would read as
 * "no records" and let data be wiped.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { failed, notSeen, seen, type Evidence } from '../../evidence/index.js';
import { seenFromHere } from '../../host/paths.js';
import type { RuntimeName } from '../../settings/types.js';
import type { Plugin } from '../api/types.js';
import { containerdRootOfRuntime } from '../root/runtime-root.js';
import { METADATA_FILE, METADATA_PLUGIN_DIR } from './schema.js';

export const METADATA_PLUGIN_TYPE = 'io.containerd.metadata.v1';
export const DEFAULT_CONTAINERD_CONFIG = '/etc/containerd/config.toml';

export type MetaDbSource = 'flag' | 'containerd' | 'runtime';

export interface MetaDbLocation {
  /** meta.db as this process sees it; undefined when nothing named it. */
  readonly path: string | undefined;
  readonly source: MetaDbSource | undefined;
  /** `seen` only when a source named the path and the file exists; says how it was found or what was tried. */
  readonly evidence: Evidence;
}

export interface LocateMetaDbInput {
  /** `--meta-db`, a path as this process sees it. */
  readonly flag?: string | undefined;
  /** containerd, when it answers (only its introspection is used). */
  readonly containerd?:
    { readonly introspection: { plugins(filters: string[]): Promise<Plugin[]> } } | undefined;
  /** Where the node's file system is seen from here. @default '/' */
  readonly hostRoot?: string;
  /** The runtime flavour that starts containerd. @default 'containerd' */
  readonly runtime?: RuntimeName | undefined;
  /** containerd's config file as a node path. @default /etc/containerd/config.toml */
  readonly configFile?: string | undefined;
  /** The operator named the config file: read only it, not the runtime's unit. */
  readonly configGiven?: boolean | undefined;
}

export const metaDbUnder = (containerdRoot: string): string =>
  join(containerdRoot, METADATA_PLUGIN_DIR, METADATA_FILE);

const SUBJECT = 'meta.db';
const HINT = "pass --meta-db with containerd's <root>/io.containerd.metadata.v1.bolt/meta.db";

const isFile = (path: string): boolean => existsSync(path) && statSync(path).isFile();

export async function locateMetaDb(input: LocateMetaDbInput): Promise<MetaDbLocation> {
  const hostRoot = input.hostRoot ?? '/';
  if (input.flag !== undefined) {
    const path = input.flag;
    return isFile(path)
      ? { path, source: 'flag', evidence: seen('meta-db', SUBJECT, `${path} (given with --meta-db)`) }
      : {
          path,
          source: 'flag',
          evidence: failed('meta-db', SUBJECT, `--meta-db ${path} is not a file`, HINT),
        };
  }
  const tried: string[] = [];
  if (input.containerd !== undefined) {
    try {
      const plugins = await input.containerd.introspection.plugins([`type==${METADATA_PLUGIN_TYPE}`]);
      const reported = plugins.find((p) => p.exports['path'])?.exports['path'];
      if (reported !== undefined) {
        const path = seenFromHere(reported, hostRoot);
        if (isFile(path))
          return {
            path,
            source: 'containerd',
            evidence: seen('meta-db', SUBJECT, `${path} (reported by containerd)`),
          };
        tried.push(`containerd reports ${reported}, which is not a file under ${hostRoot}`);
      } else tried.push('containerd reports no meta.db path');
    } catch (error) {
      tried.push(
        `containerd's introspection failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  const runtime = input.runtime ?? 'containerd';
  const configFile = input.configFile ?? DEFAULT_CONTAINERD_CONFIG;
  const finding = await containerdRootOfRuntime(runtime, configFile, hostRoot, input.configGiven === true);
  if (finding.found) {
    const path = seenFromHere(metaDbUnder(finding.root), hostRoot);
    if (isFile(path))
      return {
        path,
        source: 'runtime',
        evidence: seen('meta-db', SUBJECT, `${path} (containerd's root from ${finding.how})`),
      };
    tried.push(`containerd's root is ${finding.root} (${finding.how}), but ${path} is not a file`);
  } else tried.push(...finding.tried);
  return {
    path: undefined,
    source: undefined,
    evidence: notSeen('meta-db', SUBJECT, `not found (${tried.join('; ')})`, HINT),
  };
}

/**
 * Installing the Kata payload into `<prefix>/opt/kata[-<sfx>]`: which payload files to copy (only those that
 * differ), which per-handler files to generate, which shipped configurations become symlinks to their managed
 * copies, and which files a previous install left that this one no longer wants. Pure.
 */
import { sha256Text } from '../../containerd/config/plan.js';
import { UsageError } from '../../errors/index.js';
import type { HandlerNames, Names } from '../../names/index.js';
import type { Settings } from '../../settings/index.js';
import type { Step } from '../steps.js';
import {
  debugDropIn,
  installationPrefixDropIn,
  kernelParamsDropIn,
  managedConfig,
  reprefix,
} from './kata-config.js';

export interface TreeFact {
  readonly type: 'file' | 'dir' | 'symlink';
  readonly mode: number;
  readonly sha256?: string;
  readonly linkTarget?: string;
}

export interface ArtifactFacts {
  /** Real path of the payload's `opt/kata` directory. */
  readonly payloadRoot: string;
  /** Payload entries by path relative to `opt/kata`, files hashed. */
  readonly payload: ReadonlyMap<string, TreeFact>;
  /** Install dir entries by relative path, files hashed; empty when it does not exist. */
  readonly installed: ReadonlyMap<string, TreeFact>;
  readonly installDirExists: boolean;
  /** Text of every shipped configuration an enabled handler is based on, by relative path. */
  readonly baseConfigs: ReadonlyMap<string, string>;
}

const DROP_INS = ['10-installation-prefix.toml', '20-debug.toml', '30-kernel-params.toml'];
const DEBUG_TOOLS = ['bin/kata-ctl'];

/** Path of a node path inside the install dir, relative to it. */
function relativeTo(installDir: string, nodePath: string): string {
  return nodePath.slice(installDir.length + 1);
}

function executable(rel: string): boolean {
  return /^(runtime-rs\/)?bin\/[^/]+$/.test(rel);
}

export function planArtifactsInstall(settings: Settings, names: Names, facts: ArtifactFacts): Step[] {
  const dir = names.installDir;
  const rel = (p: string) => relativeTo(dir, p);
  const missing = names.handlers.filter((h) => !facts.baseConfigs.has(rel(h.baseConfigFile)));
  if (missing.length > 0) {
    throw new UsageError(
      `--artifacts-dir ${settings.artifactsDir} has no configuration for ${missing.map((h) => h.shim).join(', ')} (looked for ${missing.map((h) => `opt/kata/${rel(h.baseConfigFile)}`).join(', ')})`,
      {
        input: '--artifacts-dir',
        hint: 'point it at the Kata payload, or list only shipped shims in SHIMS_<ARCH>',
      },
    );
  }
  const files = new Map<string, { content: string; mode: number; reason: string }>();
  const links = new Map<string, string>();
  for (const h of names.handlers) {
    const base = facts.baseConfigs.get(rel(h.baseConfigFile))!;
    generateHandlerFiles(settings, names, h, base, files, links);
  }
  const excluded = new Set<string>([...links.keys()].map(rel));
  if (!settings.debug) for (const t of DEBUG_TOOLS) excluded.add(t);

  const steps: Step[] = [];
  if (!facts.installDirExists) steps.push({ kind: 'mkdir', path: dir });
  for (const [r, entry] of facts.payload) {
    if (excluded.has(r)) continue;
    const have = facts.installed.get(r);
    const path = `${dir}/${r}`;
    if (entry.type === 'dir') {
      if (have?.type !== 'dir') steps.push({ kind: 'mkdir', path });
    } else if (entry.type === 'symlink') {
      const target = reprefix(entry.linkTarget ?? '', dir) ?? entry.linkTarget ?? '';
      if (have?.type !== 'symlink' || have.linkTarget !== target)
        steps.push({ kind: 'symlink', path, target });
    } else {
      const mode = executable(r) ? 0o755 : entry.mode;
      if (have?.type !== 'file' || have.sha256 !== entry.sha256 || have.mode !== mode) {
        steps.push({ kind: 'copyFile', from: `${facts.payloadRoot}/${r}`, path, mode });
      }
    }
  }
  for (const [path, file] of files) {
    const have = facts.installed.get(rel(path));
    if (have?.type !== 'file' || have.sha256 !== sha256Text(file.content) || have.mode !== file.mode) {
      steps.push({ kind: 'writeFile', path, content: file.content, mode: file.mode, reason: file.reason });
    }
  }
  for (const [path, target] of links) {
    const have = facts.installed.get(rel(path));
    if (have?.type !== 'symlink' || have.linkTarget !== target) steps.push({ kind: 'symlink', path, target });
  }
  steps.push(...staleEntries(settings, names, facts, files));
  return steps;
}

function generateHandlerFiles(
  settings: Settings,
  names: Names,
  h: HandlerNames,
  base: string,
  files: Map<string, { content: string; mode: number; reason: string }>,
  links: Map<string, string>,
): void {
  const origin = `opt/kata/${relativeTo(names.installDir, h.baseConfigFile)}`;
  files.set(h.configFile, {
    content: managedConfig(base, h, settings, origin),
    mode: 0o644,
    reason: `managed configuration of ${h.handler}`,
  });
  if (h.symlinkTarget !== undefined) links.set(h.baseConfigFile, h.symlinkTarget);
  const prefix = installationPrefixDropIn(base, h, names.installDir, settings.arch, origin);
  if (prefix !== undefined) {
    files.set(`${h.configDropInDir}/10-installation-prefix.toml`, {
      content: prefix.content,
      mode: 0o644,
      reason: `paths of ${h.handler} under ${names.installDir}`,
    });
    if (prefix.qemuWrapper !== undefined) {
      files.set(prefix.qemuWrapper.path, {
        content: prefix.qemuWrapper.content,
        mode: 0o755,
        reason: 'QEMU wrapper',
      });
    }
  }
  if (h.variant === 'debug') {
    files.set(`${h.configDropInDir}/20-debug.toml`, {
      content: debugDropIn(h),
      mode: 0o644,
      reason: 'guest debug',
    });
  }
  const kernel = kernelParamsDropIn(base, h, settings, origin);
  if (kernel !== undefined) {
    files.set(`${h.configDropInDir}/30-kernel-params.toml`, {
      content: kernel,
      mode: 0o644,
      reason: `kernel parameters of ${h.handler}`,
    });
  }
}

/** Files and directories an earlier install generated that the current settings no longer want. */
function staleEntries(
  settings: Settings,
  names: Names,
  facts: ArtifactFacts,
  files: ReadonlyMap<string, unknown>,
): Step[] {
  const dir = names.installDir;
  const wantedDirs = new Set(names.handlers.map((h) => relativeTo(dir, h.configDir)));
  const steps: Step[] = [];
  for (const [r, entry] of facts.installed) {
    const path = `${dir}/${r}`;
    const parts = r.split('/');
    const handlerDir =
      /^(share\/defaults\/kata-containers\/(runtime-rs\/)?runtimes|share\/defaults\/kata-containers\/custom-runtimes)\/[^/]+$/;
    if (entry.type === 'dir' && handlerDir.test(r) && !wantedDirs.has(r)) {
      steps.push({ kind: 'removeTree', path, reason: 'configuration of a handler no longer installed' });
    } else if (entry.type === 'file' && parts.at(-2) === 'config.d' && DROP_INS.includes(parts.at(-1)!)) {
      const inWantedDir = wantedDirs.has(parts.slice(0, -2).join('/'));
      if (inWantedDir && !files.has(path))
        steps.push({ kind: 'removeFile', path, reason: 'drop-in no longer generated' });
    } else if (entry.type === 'file' && r.endsWith('-installation-prefix') && !files.has(path)) {
      steps.push({ kind: 'removeFile', path, reason: 'QEMU wrapper no longer needed' });
    } else if (!settings.debug && DEBUG_TOOLS.includes(r)) {
      steps.push({ kind: 'removeFile', path, reason: 'debug tool (DEBUG is off)' });
    }
  }
  return steps;
}

/**
 * Installing the Kata payload into `<prefix>/opt/kata[-<sfx>]`: which payload files to copy (only those that
 * differ), which per-handler files to generate, which shipped configurations become symlinks to their managed
 * copies, and which files a previous install left that this one no longer wants. Pure.
 */
import { sha256Text } from '../../containerd/config/plan.js';
import { UsageError } from '../../errors/index.js';
import type { HandlerNames, Names } from '../../names/index.js';
import { DEBUG_TOOLS, DEVKIT_FILES, relativeTo } from './install-tree.js';
import { staleEntries } from './stale.js';

export { DEVKIT_FILES, DROP_INS } from './install-tree.js';
import type { Settings } from '../../settings/index.js';
import type { Step } from '../steps.js';
import {
  debugDropIn,
  devkitDropIn,
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
  /** A payload file inside a component tarball (`.tar.zst`): which one, and its member name there. */
  readonly archive?: { readonly path: string; readonly member: string };
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
  /** First line of the payload's devkit root hash (its dm-verity parameters), when it ships one. */
  readonly devkitRootHash?: string | undefined;
  /**
   * Component tarballs the payload files come from, with the sha256 the payload's `SHA256SUMS` lists for each
   * (undefined: no list; the archive's own zstd checksums and each file's hash vouch for it).
   */
  readonly archives?: ReadonlyMap<string, { readonly sha256: string | undefined }>;
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
  if (settings.devkit && facts.payload.get(DEVKIT_FILES[0]!)?.type !== 'file') {
    throw new UsageError(
      `DEVKIT=true, but --artifacts-dir ${settings.artifactsDir} has no devkit extension (opt/kata/${DEVKIT_FILES[0]})`,
      {
        input: '--artifacts-dir',
        hint: 'use a payload built with the devkit extension (rootfs-image-devkit-extension), or unset DEVKIT; nothing was changed on the node',
      },
    );
  }
  const files = new Map<string, { content: string; mode: number; reason: string }>();
  const links = new Map<string, string>();
  for (const h of names.handlers) {
    const base = facts.baseConfigs.get(rel(h.baseConfigFile))!;
    generateHandlerFiles(settings, names, facts, h, base, files, links);
  }
  const excluded = new Set<string>([...links.keys()].map(rel));
  if (!settings.debug) for (const t of DEBUG_TOOLS) excluded.add(t);
  if (!settings.devkit) for (const t of DEVKIT_FILES) excluded.add(t);

  const steps: Step[] = [];
  if (!facts.installDirExists) steps.push({ kind: 'mkdir', path: dir });
  const extracts = new Map<string, { member: string; path: string; mode: number; sha256: string }[]>();
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
      if (have?.type === 'file' && have.sha256 === entry.sha256 && have.mode === mode) continue;
      if (entry.archive === undefined) {
        steps.push({ kind: 'copyFile', from: `${facts.payloadRoot}/${r}`, path, mode });
      } else {
        const list = extracts.get(entry.archive.path) ?? [];
        list.push({ member: entry.archive.member, path, mode, sha256: entry.sha256! });
        extracts.set(entry.archive.path, list);
      }
    }
  }
  for (const [archive, list] of extracts) {
    steps.push({
      kind: 'extractFiles',
      archive,
      archiveSha256: facts.archives?.get(archive)?.sha256,
      files: list,
    });
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
  steps.push(...staleEntries(names, facts, files, links, excluded));
  return steps;
}

function generateHandlerFiles(
  settings: Settings,
  names: Names,
  facts: ArtifactFacts,
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
  if (h.variant === 'debug' || h.variant === 'devkit') {
    files.set(`${h.configDropInDir}/20-debug.toml`, {
      content: debugDropIn(h),
      mode: 0o644,
      reason: 'guest debug',
    });
  }
  if (h.variant === 'devkit') {
    files.set(`${h.configDropInDir}/25-devkit.toml`, {
      content: devkitDropIn(base, h, names.devkit.image, facts.devkitRootHash, names.installDir, origin),
      mode: 0o644,
      reason: 'the devkit extension image and the agent debug console',
    });
  }
  const operatorDropIn =
    h.variant === 'default'
      ? { file: settings.shimDropIns.get(h.shim), name: '50-user-overrides.toml' }
      : h.variant === 'custom'
        ? {
            file: settings.customRuntimes.find((r) => r.handler === h.handler)?.dropIn,
            name: '50-overrides.toml',
          }
        : undefined;
  if (operatorDropIn?.file !== undefined) {
    files.set(`${h.configDropInDir}/${operatorDropIn.name}`, {
      content: operatorDropIn.file.content,
      mode: 0o644,
      reason: `the operator's drop-in for ${h.handler} (${operatorDropIn.file.source})`,
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

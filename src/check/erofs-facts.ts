/**
 * The facts the erofs rules read: the kernel's (file systems, modules, configuration; the same kernel from any
 * mount namespace, so read through a `HostFacts` reader) and mkfs.erofs, looked up in the directories of
 * containerd's PATH and asked for its version by the caller's runner (the check itself runs no program).
 */
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { quoteValue, UsageError } from '../errors/index.js';
import { PATHS, readModules, type HostFacts } from './facts.js';
import type { ErofsHostFacts, MkfsErofsFact } from './rules/erofs.js';

/** Where systemd's services look for programs (its default PATH); containerd runs with it. */
export const SYSTEMD_DEFAULT_PATH = [
  '/usr/local/sbin',
  '/usr/local/bin',
  '/usr/sbin',
  '/usr/bin',
  '/sbin',
  '/bin',
];

export type RunVersion = (
  file: string,
) => Promise<{ ok: true; output: string } | { ok: false; reason: string }>;

/**
 * mkfs.erofs in the first of `dirs` that has it (each entry: the directory as containerd sees it, and as this
 * process reaches it), then its `--version`.
 */
export async function findMkfsErofs(
  dirs: readonly { readonly node: string; readonly here: string }[],
  run: RunVersion,
): Promise<MkfsErofsFact> {
  for (const dir of dirs) {
    const here = join(dir.here, 'mkfs.erofs');
    try {
      accessSync(here, constants.X_OK);
    } catch {
      continue;
    }
    const result = await run(here);
    const path = join(dir.node, 'mkfs.erofs');
    return result.ok
      ? { kind: 'found', path, output: result.output }
      : { kind: 'failed', path, reason: result.reason };
  }
  return { kind: 'missing', searched: dirs.map((d) => d.node) };
}

export function gatherErofsFacts(kernel: HostFacts, mkfs: MkfsErofsFact): ErofsHostFacts {
  const release = kernel.readText(PATHS.osRelease);
  return {
    filesystems: kernel.readText('/proc/filesystems'),
    modules: readModules(kernel, release.ok ? release.value.trim() : undefined),
    mkfs,
  };
}

/**
 * What `kata-deploy check` checks for erofs, from the same variables install reads: nothing unless
 * `EXPERIMENTAL_SETUP_SNAPSHOTTER` lists erofs. Values are checked the way install checks them.
 */
export function erofsWantsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): { dmverity: boolean; fsverity: boolean } | undefined {
  const setup = (env['EXPERIMENTAL_SETUP_SNAPSHOTTER'] ?? '').split(',').map((s) => s.trim());
  if (!setup.includes('erofs')) return undefined;
  const dm = (env['EROFS_DMVERITY'] ?? '').trim();
  const fsv = (env['EROFS_FSVERITY'] ?? '').trim();
  if (dm !== '' && dm !== 'dmverity')
    throw new UsageError(`EROFS_DMVERITY=${quoteValue(dm)} is not valid: expected "dmverity", or unset`, {
      input: 'EROFS_DMVERITY',
    });
  if (fsv !== '' && fsv !== 'on' && fsv !== 'off')
    throw new UsageError(`EROFS_FSVERITY=${quoteValue(fsv)} is not valid: expected one of on, off`, {
      input: 'EROFS_FSVERITY',
    });
  return { dmverity: dm === 'dmverity', fsverity: fsv !== 'off' };
}

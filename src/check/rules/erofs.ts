/**
 * What containerd's erofs snapshotter needs from the host (`EXPERIMENTAL_SETUP_SNAPSHOTTER=erofs`), as rules
 * over facts; `kata-deploy check` and install share them. Pure.
 *
 * - erofs in the kernel (layers are erofs images mounted from files) and overlay (active snapshots are an
 *   overlay over them): listed in /proc/filesystems, or a module the kernel loads on the first mount.
 * - mkfs.erofs from erofs-utils 1.8.2 or newer on containerd's PATH: the erofs differ runs it with
 *   `-T0 --mkfs-time --sort=none` (older releases lack `--sort`); containerd 2.1 skips the differ without it.
 * - fs-verity in the kernel when `enable_fsverity` is written: containerd 2.1.9 refuses to load the erofs
 *   snapshotter on a file system without fs-verity, and the metadata plugin (every service) fails with it.
 * - dm_mod and dm_verity when dm-verity is asked (`EROFS_DMVERITY=dmverity`).
 */
import type { ModuleFacts } from '../facts.js';
import type { Finding, Read } from '../types.js';
import { fail, pass, warn } from './finding.js';
import { isPresent, moduleState } from './module-state.js';

export const MKFS_EROFS_MIN = [1, 8, 2] as const;

export type MkfsErofsFact =
  | { readonly kind: 'found'; readonly path: string; readonly output: string }
  | { readonly kind: 'failed'; readonly path: string; readonly reason: string }
  | { readonly kind: 'missing'; readonly searched: readonly string[] }
  | { readonly kind: 'not-run'; readonly reason: string };

export interface ErofsHostFacts {
  /** /proc/filesystems. */
  readonly filesystems: Read<string>;
  readonly modules: ModuleFacts;
  readonly mkfs: MkfsErofsFact;
}

export interface ErofsWants {
  readonly dmverity: boolean;
  readonly fsverity: boolean;
}

/** `mkfs.erofs (erofs-utils) 1.8.6` → [1, 8, 6]; undefined when the output names no version. */
export function parseMkfsErofsVersion(output: string): [number, number, number] | undefined {
  const m =
    /erofs-utils\)?\s+v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(output) ?? /\b(\d+)\.(\d+)(?:\.(\d+))?\b/.exec(output);
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? '0')];
}

function atLeast(v: readonly number[], min: readonly number[]): boolean {
  for (let i = 0; i < min.length; i++) if ((v[i] ?? 0) !== min[i]) return (v[i] ?? 0) > min[i]!;
  return true;
}

function filesystemFinding(
  id: string,
  fs: string,
  config: string,
  module: string,
  facts: ErofsHostFacts,
): Finding {
  const listed = facts.filesystems.ok
    ? facts.filesystems.value.split('\n').some((l) => l.trim().split(/\s+/).at(-1) === fs)
    : undefined;
  if (listed) return pass(id, `${fs} file system: in the kernel (/proc/filesystems)`);
  const state = moduleState(module, config, facts.modules, undefined);
  if (state === 'on-disk')
    return warn(
      id,
      `${fs} file system: a module not loaded yet (the kernel loads it on the first mount)`,
      `load it now with \`modprobe ${module}\` to be sure`,
    );
  if (listed === undefined && state === 'unknown')
    return {
      ...warn(
        id,
        `${fs} file system: cannot tell (/proc/filesystems: ${facts.filesystems.ok ? '' : facts.filesystems.code})`,
      ),
      undecided: true,
    };
  return fail(
    id,
    `${fs} file system: not in this kernel`,
    state === 'not-built'
      ? `use a kernel with CONFIG_${config}=y or =m`
      : `load it with \`modprobe ${module}\`, or use a kernel with CONFIG_${config}`,
  );
}

function mkfsFinding(mkfs: MkfsErofsFact): Finding {
  const id = 'erofs.mkfs';
  const need = `erofs-utils ${MKFS_EROFS_MIN.join('.')} or newer`;
  const install = `install ${need} where containerd finds it on its PATH`;
  switch (mkfs.kind) {
    case 'not-run':
      return { ...warn(id, `mkfs.erofs: not checked (${mkfs.reason})`), undecided: true };
    case 'missing':
      return fail(id, `mkfs.erofs: not found (looked in ${mkfs.searched.join(', ')})`, install);
    case 'failed':
      return fail(id, `mkfs.erofs at ${mkfs.path} does not run: ${mkfs.reason}`, install);
    case 'found': {
      const version = parseMkfsErofsVersion(mkfs.output);
      if (version === undefined)
        return fail(id, `mkfs.erofs at ${mkfs.path}: no version in its output`, install);
      const text = version.join('.');
      return atLeast(version, MKFS_EROFS_MIN)
        ? pass(id, `mkfs.erofs ${text} at ${mkfs.path}`)
        : fail(id, `mkfs.erofs ${text} at ${mkfs.path} is older than ${MKFS_EROFS_MIN.join('.')}`, install);
    }
  }
}

function fsverityFinding(modules: ModuleFacts): Finding {
  const id = 'erofs.fsverity';
  const value = modules.kernelConfig?.get('FS_VERITY');
  if (value === 'y')
    return pass(id, 'fs-verity: in the kernel (containerd also needs it on the file system of its root)');
  if (modules.kernelConfig === undefined)
    return {
      ...warn(id, 'fs-verity: cannot tell (no kernel configuration to read)', 'or set EROFS_FSVERITY=off'),
      undecided: true,
    };
  return fail(
    id,
    'fs-verity: not in this kernel (CONFIG_FS_VERITY is not set); containerd would not load the erofs snapshotter, and its metadata plugin fails with it',
    'set EROFS_FSVERITY=off, or use a kernel with CONFIG_FS_VERITY=y and a root file system with verity (ext4 -O verity)',
  );
}

function dmFinding(module: string, config: string, modules: ModuleFacts): Finding {
  const id = `erofs.${module}`;
  const state = moduleState(module, config, modules, undefined);
  if (isPresent(state)) return pass(id, `${module}: ${state === 'loaded' ? 'loaded' : 'built in'}`);
  if (state === 'on-disk')
    return warn(id, `${module}: installed but not loaded`, `load it with \`modprobe ${module}\``);
  return fail(
    id,
    `${module}: not in this kernel; EROFS_DMVERITY=dmverity needs it`,
    state === 'not-built'
      ? `use a kernel with CONFIG_${config}=y or =m, or unset EROFS_DMVERITY`
      : `load it with \`modprobe ${module}\`, or unset EROFS_DMVERITY`,
  );
}

export function erofsFindings(facts: ErofsHostFacts, wants: ErofsWants): Finding[] {
  const findings = [
    filesystemFinding('erofs.kernel', 'erofs', 'EROFS_FS', 'erofs', facts),
    filesystemFinding('erofs.overlay', 'overlay', 'OVERLAY_FS', 'overlay', facts),
    mkfsFinding(facts.mkfs),
  ];
  if (wants.fsverity) findings.push(fsverityFinding(facts.modules));
  if (wants.dmverity)
    findings.push(
      dmFinding('dm_mod', 'BLK_DEV_DM', facts.modules),
      dmFinding('dm_verity', 'DM_VERITY', facts.modules),
    );
  return findings;
}

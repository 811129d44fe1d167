// Where the bed finds each containerd and the nydus-snapshotter: 1.6 is the system's (Debian bookworm),
// 1.7, 2.1 and nydus come unpacked from Debian's newer suites into the provision cache (scripts/provision.sh).
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type ContainerdVersion = '1.6' | '1.7' | '2.1';
export const ALL_VERSIONS: ContainerdVersion[] = ['1.6', '1.7', '2.1'];

export interface ContainerdBinaries {
  version: ContainerdVersion;
  containerd: string;
  ctr: string;
  /** Directory holding the matching containerd-shim-runc-v2; the bed puts it first on containerd's PATH. */
  shimDir: string;
  fullVersion: string;
}

export interface NydusBinaries {
  grpc: string;
  overlayfs: string;
}

const PROVISION_HINT =
  'run `bash scripts/provision.sh` (as root) to install and unpack the test bed binaries';

/** The provision cache, `${KATA_BED_CACHE:-$HOME/.cache/kata-deploy-bed}` like scripts/provision.sh. */
export function bedCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['KATA_BED_CACHE'] || path.join(env['HOME'] || os.homedir(), '.cache', 'kata-deploy-bed');
}

function requireExecutable(file: string, what: string): string {
  try {
    accessSync(file, constants.X_OK);
  } catch {
    throw new Error(`${what} not found or not executable at ${file}: ${PROVISION_HINT}`);
  }
  return file;
}

function readVersion(dir: string | undefined, containerd: string): string {
  if (dir) {
    try {
      return readFileSync(path.join(dir, 'VERSION'), 'utf8').trim();
    } catch {
      // fall through to asking the binary
    }
  }
  // "containerd github.com/containerd/containerd 1.6.20~ds1 <revision>"
  const out = execFileSync(containerd, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return out.trim().split(/\s+/)[2] ?? out.trim();
}

const cache = new Map<ContainerdVersion, ContainerdBinaries>();

export function containerdBinaries(v: ContainerdVersion): ContainerdBinaries {
  const known = cache.get(v);
  if (known) return known;
  let found: ContainerdBinaries;
  if (v === '1.6') {
    const containerd = requireExecutable('/usr/bin/containerd', 'containerd 1.6');
    found = {
      version: v,
      containerd,
      ctr: requireExecutable('/usr/bin/ctr', 'ctr 1.6'),
      shimDir: path.dirname(
        requireExecutable('/usr/bin/containerd-shim-runc-v2', 'containerd-shim-runc-v2 1.6'),
      ),
      fullVersion: readVersion(undefined, containerd),
    };
  } else if (v === '1.7' || v === '2.1') {
    const dir = path.join(bedCacheDir(), `containerd-${v}`);
    const bin = path.join(dir, 'usr', 'bin');
    const containerd = requireExecutable(path.join(bin, 'containerd'), `containerd ${v}`);
    found = {
      version: v,
      containerd,
      ctr: requireExecutable(path.join(bin, 'ctr'), `ctr ${v}`),
      shimDir: path.dirname(
        requireExecutable(path.join(bin, 'containerd-shim-runc-v2'), `containerd-shim-runc-v2 ${v}`),
      ),
      fullVersion: readVersion(dir, containerd),
    };
  } else {
    throw new Error(`unknown containerd version "${String(v)}": use one of ${ALL_VERSIONS.join(', ')}`);
  }
  cache.set(v, found);
  return found;
}

export function nydusBinaries(): NydusBinaries {
  const bin = path.join(bedCacheDir(), 'nydus', 'usr', 'bin');
  return {
    grpc: requireExecutable(path.join(bin, 'containerd-nydus-grpc'), 'containerd-nydus-grpc'),
    overlayfs: requireExecutable(path.join(bin, 'nydus-overlayfs'), 'nydus-overlayfs'),
  };
}

/**
 * The directory holding the `mkfs.erofs` wrapper (erofs-utils from trixie, run with trixie's libc; see
 * scripts/provision.sh). Put it on containerd's PATH for its erofs differ.
 */
export function erofsUtilsBinDir(): string {
  const dir = path.join(bedCacheDir(), 'erofs-utils', 'bin');
  requireExecutable(path.join(dir, 'mkfs.erofs'), 'mkfs.erofs (erofs-utils)');
  return dir;
}

/** kubectl 1.32 (Debian trixie's package, from the provision cache): its kustomize v5 renders deploy/. */
export function kubectlBinary(): string {
  return requireExecutable(path.join(bedCacheDir(), 'kubectl', 'usr', 'bin', 'kubectl'), 'kubectl');
}

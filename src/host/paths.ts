/**
 * Node paths → paths under `--host-root`. A node path is what containerd on the node sees (`/etc/containerd`);
 * this process sees it at `<host-root>/etc/containerd`. Anything that could leave the root is refused.
 *
 * The host-root rules live here, in one place: `parseHostRoot` (the flag's syntax; the settings schema calls it)
 * and `requireHostRoot` (it exists and is a directory; nothing is ever created for it).
 *
 * Symlinks inside the root are resolved the way the node's kernel resolves them (`resolveInRoot`): an absolute
 * target is a node path, so it is looked up under the host root again, and `..` stops at the root, as it stops
 * at `/` on the node. A link can therefore never lead this process out of the root, and a pod that sees the node
 * at `/host` reads `/host/var/run/x` where the node reads `/var/run/x` → `/run/x`. This is the semantics of
 * openat2's RESOLVE_IN_ROOT, done in user space with lstat and readlink.
 */
import { existsSync, lstatSync, readlinkSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { HostError, UsageError, errnoCode, isErrno } from '../errors/index.js';

/** The most symlinks one resolution follows, as Linux (MAXSYMLINKS). */
const MAX_LINKS = 40;

export function isNodePath(nodePath: string): boolean {
  return nodePath.startsWith('/') && !nodePath.split('/').includes('..') && !nodePath.includes('\0');
}

export function assertNodePath(nodePath: string): void {
  if (!isNodePath(nodePath)) {
    throw new HostError(
      `refusing the path ${JSON.stringify(nodePath)}: not an absolute path inside the node`,
      {
        input: nodePath,
      },
    );
  }
}

/** `<root><nodePath>`, normalised, without looking at the disk; `root` is an absolute path (`/` on a node). */
export function underRoot(root: string, nodePath: string): string {
  assertNodePath(nodePath);
  const clean = nodePath.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
  if (root === '/') return clean;
  return clean === '/' ? root : `${root}${clean}`;
}

/**
 * A path containerd (or its config) names, as this process sees it: under the host root, symlinks resolved in
 * the root. A node whose own paths already lie under that root (a sandbox node) names them whole; those are
 * taken as they are.
 */
export function seenFromHere(reported: string, hostRoot: string): string {
  if (hostRoot === '/') return join(hostRoot, reported);
  const joined = isNodePath(reported) ? resolveInRoot(hostRoot, reported).real : join(hostRoot, reported);
  if (existsSync(joined)) return joined;
  return reported.startsWith(`${join(hostRoot)}/`) && existsSync(reported) ? reported : joined;
}

export type ParsedHostRoot =
  { readonly ok: true; readonly value: string } | { readonly ok: false; readonly accepted: string };

/**
 * `--host-root` as given: unset means `/`; anything else must be an absolute path without `..` or control
 * characters. `""` is refused, not read as `/`: an empty value is a mistake (an unset variable in a script), and
 * taking it for the machine's own root would plan against, and write to, the wrong machine.
 */
export function parseHostRoot(raw: string | undefined): ParsedHostRoot {
  if (raw === undefined) return { ok: true, value: '/' };
  const accepted = 'an absolute path to an existing directory (the node\'s root file system; "" is not /)';
  if (!raw.startsWith('/') || [...raw].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))
    return { ok: false, accepted };
  const normal = raw.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
  if (normal.split('/').includes('..')) return { ok: false, accepted: `${accepted}, without ".."` };
  return { ok: true, value: normal };
}

/** A path for an error line: long ones cut in the middle. */
const shown = (path: string) => (path.length > 160 ? `${path.slice(0, 80)}…${path.slice(-60)}` : path);

/** The host root exists and is a directory (a link to one is fine). Never creates it. */
export function requireHostRoot(root: string): void {
  let st: Stats;
  try {
    st = statSync(root);
  } catch (error) {
    const why = isErrno(error, 'ENOENT')
      ? 'does not exist'
      : `cannot be read (${errnoCode(error) ?? 'error'})`;
    throw new UsageError(`--host-root ${shown(root)} ${why}`, {
      input: '--host-root',
      hint: "point it at the node's root file system (a pod mounts it at e.g. /host); kata-deploy never creates it",
      cause: error,
    });
  }
  if (!st.isDirectory()) {
    throw new UsageError(`--host-root ${shown(root)} is not a directory`, {
      input: '--host-root',
      hint: "point it at the node's root file system",
    });
  }
}

export interface Resolution {
  /** The path to hand to the kernel: under the root, with no symlink left in it (as of the resolution). */
  readonly real: string;
  /** The same as a node path. */
  readonly node: string;
  /**
   * Set when a symlink led to a place that does not exist: the link (node path) and its target. Reading through
   * it finds nothing; creating through it is refused (`resolveForWrite`), as the kernel refuses `mkdir -p`.
   */
  readonly dangling?: { readonly link: string; readonly target: string };
  /** Set when a component that must be a directory is something else (node path of that component). */
  readonly notDir?: string;
}

interface Part {
  readonly name: string;
  /** The link (node path) whose target this part came from, if any. */
  readonly via?: { readonly link: string; readonly target: string };
}

const split = (path: string, via?: Part['via']): Part[] =>
  path
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .map((name) => (via === undefined ? { name } : { name, via }));

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR')) return undefined;
    throw new HostError(`cannot stat ${path}: ${String(error)}`, { input: path, cause: error });
  }
}

/**
 * Resolves a node path under `root` as the node resolves it (see the file comment). `followLast: false` leaves
 * a symlink in the last component as it is (for lstat, unlink, rename over it).
 */
export function resolveInRoot(
  root: string,
  nodePath: string,
  options: { followLast?: boolean } = {},
): Resolution {
  assertNodePath(nodePath);
  const followLast = options.followLast ?? true;
  const real = (parts: readonly string[]) =>
    parts.length === 0 ? root : underRoot(root, `/${parts.join('/')}`);
  const done: string[] = [];
  const queue = split(nodePath);
  let links = 0;
  let dangling: Resolution['dangling'];
  let notDir: string | undefined;
  let missing = false;
  while (queue.length > 0) {
    const part = queue.shift()!;
    if (part.name === '..') {
      done.pop(); // `..` at the root stays at the root, as `/..` is `/` on the node
      continue;
    }
    done.push(part.name);
    if (missing || notDir !== undefined) continue;
    if (queue.length === 0 && !followLast) break;
    const st = lstatOrUndefined(real(done));
    if (st === undefined) {
      missing = true;
      if (part.via !== undefined) dangling = part.via;
      continue;
    }
    if (st.isSymbolicLink()) {
      if (++links > MAX_LINKS) {
        throw new UsageError(`too many levels of symlinks resolving ${nodePath} under --host-root ${root}`, {
          input: nodePath,
          hint: 'a symlink on the way points back at itself; fix the link',
        });
      }
      const link = `/${done.join('/')}`;
      const target = readlinkSync(real(done));
      done.pop();
      if (target.startsWith('/')) done.length = 0;
      queue.unshift(...split(target, { link, target }));
      continue;
    }
    if (!st.isDirectory() && queue.length > 0) notDir = `/${done.join('/')}`;
  }
  return {
    real: real(done),
    node: `/${done.join('/')}`,
    ...(dangling ? { dangling } : {}),
    ...(notDir ? { notDir } : {}),
  };
}

/**
 * The real path to create or replace `nodePath` at (the last component is not followed: a write replaces a
 * link there, as rename does). Refused with a UsageError when a directory on the way is a symlink that leads
 * nowhere under the root, or is not a directory: writing there would leave the root or fail half-way.
 */
export function resolveForWrite(root: string, nodePath: string): string {
  const r = resolveInRoot(root, nodePath, { followLast: false });
  if (r.dangling !== undefined) {
    throw new UsageError(
      `cannot write ${nodePath} under --host-root ${root}: ${r.dangling.link} is a symlink to ${r.dangling.target}, which does not exist under the host root`,
      {
        input: nodePath,
        hint: 'symlinks are resolved as the node resolves them (absolute targets under the host root); fix or remove the link',
      },
    );
  }
  if (r.notDir !== undefined) {
    throw new UsageError(
      `cannot write ${nodePath} under --host-root ${root}: ${r.notDir} is not a directory`,
      {
        input: nodePath,
        hint: 'move the file out of the way',
      },
    );
  }
  return r.real;
}

/**
 * How this process sees the node behind `--host-root`: whose processes and mounts it judges. One of three:
 *
 * - `self`: the host root is `/`. kata-deploy runs on the node itself; its own /proc and mount namespace are
 *   the node's, and nothing is compared.
 * - `node`: `<host-root>/proc` is a proc file system, the node's /proc (a pod's hostPath mount of the node's `/`
 *   brings it along). The node's PID 1 there names the node's namespaces: mounts are read from its mountinfo
 *   (node paths) and unmounted in its mount namespace, and this process is in the node's PID namespace exactly
 *   when its own `/proc/self/ns/pid` is PID 1's.
 * - `tree`: anything else, a directory tree with no /proc of its own (the sandbox's and the tests' temporary
 *   roots). Its mounts are this process's, and there is no node PID namespace to be in or out of.
 *
 * Managing the node's services is what depends on the PID namespace, and kata-deploy does it only from the
 * node's own (`hostPID: true`), where every pid it reads or writes names the node's process: systemd disconnects
 * a client whose pid it cannot see (one outside the node's PID namespace and those below it), and the process
 * supervisor judges services by pids recorded on the node. systemd 252 does answer a client in a PID namespace
 * below the node's (a pod without hostPID on a real node: measured on the systemd bed), so refusing that one is
 * kata-deploy's requirement rather than systemd's; upstream's DaemonSet runs with hostPID too.
 * `requireNodePidNamespace` refuses with exit 2 naming `hostPID: true` when the node's /proc shows another PID
 * namespace, or cannot be read.
 */
import { readlinkSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { errnoCode, isErrno, UsageError } from '../errors/index.js';
import type { ServiceManager } from './service/types.js';

/** statfs(2) type of a proc file system. */
const PROC_SUPER_MAGIC = 0x9fa0;

export type PidNamespaceCheck =
  | { readonly verdict: 'same'; readonly namespace: string }
  | { readonly verdict: 'other'; readonly self: string; readonly node: string }
  | { readonly verdict: 'unknown'; readonly why: string };

export type NodeView =
  | { readonly kind: 'self' }
  | { readonly kind: 'tree' }
  | {
      readonly kind: 'node';
      /** The node's /proc as this process sees it (`<host-root>/proc`). */
      readonly proc: string;
      readonly pidNamespace: PidNamespaceCheck;
    };

/** What reading a namespace link gave: its text, or why it could not be read. */
export type LinkRead = { readonly link: string } | { readonly error: string };

/** The inode number of a `pid:[4026531836]` link, or undefined when the text is not a PID namespace link. */
export function pidNamespaceId(link: string): string | undefined {
  return /^pid:\[(\d+)\]$/.exec(link)?.[1];
}

/** This process's PID namespace against the node's PID 1's: same, other, or unknown when either is unread. */
export function comparePidNamespaces(self: LinkRead, node: LinkRead): PidNamespaceCheck {
  const id = (read: LinkRead, whose: string): { id: string; link: string } | { why: string } => {
    if ('error' in read) return { why: `${whose}: ${read.error}` };
    const found = pidNamespaceId(read.link);
    return found === undefined
      ? { why: `${whose} is ${JSON.stringify(read.link)}, not a PID namespace` }
      : { id: found, link: read.link };
  };
  const mine = id(self, 'this process’s PID namespace');
  const theirs = id(node, 'the node’s PID 1’s PID namespace');
  if ('why' in mine) return { verdict: 'unknown', why: mine.why };
  if ('why' in theirs) return { verdict: 'unknown', why: theirs.why };
  return mine.id === theirs.id
    ? { verdict: 'same', namespace: mine.link }
    : { verdict: 'other', self: mine.link, node: theirs.link };
}

function readLink(path: string): LinkRead {
  try {
    return { link: readlinkSync(path) };
  } catch (error) {
    return { error: `cannot read ${path} (${errnoCode(error) ?? String(error)})` };
  }
}

/** Looks at `<root>/proc` and, when it is the node's /proc, compares PID namespaces. Reads only. */
export function observeNodeView(root: string): NodeView {
  if (root === '/') return { kind: 'self' };
  const proc = join(root, 'proc');
  let type: number;
  try {
    type = statfsSync(proc).type;
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR')) return { kind: 'tree' };
    return {
      kind: 'node',
      proc,
      pidNamespace: {
        verdict: 'unknown',
        why: `cannot statfs ${proc} (${errnoCode(error) ?? String(error)})`,
      },
    };
  }
  if (type !== PROC_SUPER_MAGIC) return { kind: 'tree' };
  return {
    kind: 'node',
    proc,
    pidNamespace: comparePidNamespaces(readLink('/proc/self/ns/pid'), readLink(join(proc, '1/ns/pid'))),
  };
}

/**
 * Throws a UsageError (exit 2) when the node's /proc is visible under the host root and this process is not
 * in the node's PID namespace, or that cannot be told. `needs` says what depends on it.
 */
export function requireNodePidNamespace(view: NodeView, needs: string): void {
  if (view.kind !== 'node' || view.pidNamespace.verdict === 'same') return;
  const c = view.pidNamespace;
  const found =
    c.verdict === 'other'
      ? `kata-deploy is not in the node's PID namespace (its own is ${c.self}; the node's PID 1 under ${view.proc} is in ${c.node})`
      : `cannot tell whether kata-deploy is in the node's PID namespace (${c.why})`;
  throw new UsageError(`${found}: ${needs}; run it with hostPID: true`, {
    input: 'hostPID',
    hint: "set hostPID: true in the pod's spec, with the node's / mounted at --host-root; on the node itself, use --host-root /",
  });
}

/** Why managing services needs the node's PID namespace, for the refusal. */
export const SERVICES_NEED_NODE_PIDS =
  "kata-deploy manages the node's services only from the node's PID namespace, where a pid names the node's process (systemd disconnects clients it cannot see; the process supervisor judges services by their pids)";

/** The same manager, each call preceded by `check` (which throws to refuse it). */
export function checkedFirst(manager: ServiceManager, check: () => void): ServiceManager {
  const guard =
    <A extends unknown[], R>(f: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      check();
      return f(...args);
    };
  const m = manager;
  return {
    kind: m.kind,
    restart: guard((u) => m.restart(u)),
    stop: guard((u) => m.stop(u)),
    start: guard((u) => m.start(u)),
    isActive: guard((u) => m.isActive(u)),
    daemonReload: guard(() => m.daemonReload()),
    ...(m.enable === undefined ? {} : { enable: guard((u: string) => m.enable!(u)) }),
    ...(m.disable === undefined ? {} : { disable: guard((u: string) => m.disable!(u)) }),
    describeFailure: guard((u) => m.describeFailure(u)),
  };
}

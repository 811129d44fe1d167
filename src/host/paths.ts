/**
 * Node paths → paths under `--host-root`. A node path is what containerd on the node sees (`/etc/containerd`);
 * this process sees it at `<host-root>/etc/containerd`. Anything that could leave the root is refused.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { HostError } from '../errors/index.js';

export function assertNodePath(nodePath: string): void {
  if (!nodePath.startsWith('/') || nodePath.split('/').some((s) => s === '..') || nodePath.includes('\0')) {
    throw new HostError(
      `refusing the path ${JSON.stringify(nodePath)}: not an absolute path inside the node`,
      {
        input: nodePath,
      },
    );
  }
}

/** `<root><nodePath>`, normalised; `root` is an absolute path (`/` on a node). */
export function underRoot(root: string, nodePath: string): string {
  assertNodePath(nodePath);
  const clean = nodePath.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
  if (root === '/') return clean;
  return clean === '/' ? root : `${root}${clean}`;
}

/**
 * A path containerd (or its config) names, as this process sees it: under the host root. A node whose own
 * paths already lie under that root (a sandbox node) names them whole; those are taken as they are.
 */
export function seenFromHere(reported: string, hostRoot: string): string {
  const joined = join(hostRoot, reported);
  if (hostRoot === '/' || existsSync(joined)) return joined;
  return reported.startsWith(`${join(hostRoot)}/`) && existsSync(reported) ? reported : joined;
}

/**
 * Node paths → paths under `--host-root`. A node path is what containerd on the node sees (`/etc/containerd`);
 * this process sees it at `<host-root>/etc/containerd`. Anything that could leave the root is refused.
 */
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

/**
 * Where a snapshotter's socket and data directory are, each with how it was found: the caller's flags,
 * containerd's introspection (a proxy plugin exports `address` and often `root`), containerd's own config
 * (`proxy_plugins.<name>`) when containerd is down, or containerd's root for a built-in snapshotter — only a
 * root that was itself found. Nothing is guessed: an unknown location stays unknown, with a hint that names
 * the flag and, for snapshotters kata-deploy sets up, the directory it uses.
 */
import { dirname, join } from 'node:path';
import type { ContainerdClient } from '../containerd/api/index.js';
import { readMergedContainerdConfig } from '../containerd/config/merged.js';
import { SNAPSHOTTER_PLUGIN_TYPE } from '../containerd/info.js';
import { seenFromHere } from '../host/paths.js';
import { kataDeployDataDir } from '../names/index.js';
import type { BackendLocation, Located } from './backend.js';

/** containerd's built-in snapshotters keep their store under `<root>/io.containerd.snapshotter.v1.<name>`. */
export const BUILT_IN_SNAPSHOTTERS = [
  'overlayfs',
  'native',
  'erofs',
  'btrfs',
  'zfs',
  'devmapper',
  'blockfile',
];

export interface LocateFlags {
  readonly snapshotterSocket?: string | undefined;
  readonly snapshotterRoot?: string | undefined;
  readonly hostRoot: string;
  /** containerd's config (node path), read when containerd does not answer. */
  readonly containerdConfig?: string | undefined;
}

/** containerd's root directory, from a meta.db path that was found (`<root>/io.containerd.metadata.v1.bolt/meta.db`). */
const containerdRootOf = (metaDbPath: string): string => dirname(dirname(metaDbPath));

function backendHint(snapshotter: string, builtIn: boolean | undefined): string {
  if (builtIn === true)
    return `pass --snapshotter-root with its data directory (<containerd root>/io.containerd.snapshotter.v1.${snapshotter})`;
  const own = kataDeployDataDir(snapshotter);
  return (
    "start the snapshotter so its socket answers, or pass --snapshotter-root with the snapshotter's data directory" +
    (own === undefined ? '' : ` (kata-deploy sets up ${own} for ${snapshotter})`)
  );
}

export async function locateBackend(
  client: ContainerdClient | undefined,
  snapshotter: string,
  /** meta.db's path as found by the locator (its evidence seen); undefined when it was not found. */
  foundMetaDbPath: string | undefined,
  flags: LocateFlags,
): Promise<BackendLocation> {
  const here = (nodePath: string): string => seenFromHere(nodePath, flags.hostRoot);
  let address: Located | undefined = flags.snapshotterSocket
    ? { path: flags.snapshotterSocket, how: 'given with --snapshotter-socket' }
    : undefined;
  let root: Located | undefined = flags.snapshotterRoot
    ? { path: flags.snapshotterRoot, how: 'given with --snapshotter-root' }
    : undefined;
  let builtIn: boolean | undefined;
  if (client) {
    try {
      const plugins = await client.introspection.plugins([
        `type==${SNAPSHOTTER_PLUGIN_TYPE}`,
        `id==${snapshotter}`,
      ]);
      const plugin = plugins.find((p) => p.id === snapshotter);
      if (plugin) {
        const exported = (name: string): Located | undefined => {
          const value = plugin.exports[name];
          return value === undefined
            ? undefined
            : { path: here(value), how: `reported by containerd (exports.${name})` };
        };
        address ??= exported('address');
        root ??= exported('root');
        builtIn = plugin.exports['address'] === undefined;
      }
    } catch {
      // Introspection is one source among several; what it cannot tell stays unknown below.
    }
  } else if (flags.containerdConfig !== undefined && (!address || !root)) {
    const config = await readMergedContainerdConfig(flags.containerdConfig, flags.hostRoot);
    const proxy = config.proxyPlugins.get(snapshotter);
    if (proxy) {
      const how = `proxy_plugins.${snapshotter} in ${proxy.file}`;
      if (proxy.address) address ??= { path: here(proxy.address), how };
      if (proxy.root) root ??= { path: here(proxy.root), how: `exports.root of ${how}` };
      builtIn = false;
    } else if (BUILT_IN_SNAPSHOTTERS.includes(snapshotter)) builtIn = true;
  }
  if (!root && builtIn === true && foundMetaDbPath !== undefined) {
    const containerdRoot = containerdRootOf(foundMetaDbPath);
    root = {
      path: join(containerdRoot, `io.containerd.snapshotter.v1.${snapshotter}`),
      how: `containerd's root ${containerdRoot} (built-in snapshotter)`,
    };
  }
  return { address, root, hint: backendHint(snapshotter, builtIn) };
}

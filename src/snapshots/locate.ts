/** Where a snapshotter's own data and socket are, from containerd's introspection or the caller's flags. */
import { dirname, join } from 'node:path';
import type { ContainerdClient } from '../containerd/api/index.js';
import { SNAPSHOTTER_PLUGIN_TYPE } from '../containerd/info.js';
import type { BackendLocation } from './backend.js';
import { seenFromHere } from '../host/paths.js';

export interface LocateFlags {
  snapshotterSocket?: string | undefined;
  snapshotterRoot?: string | undefined;
  hostRoot: string;
}

/** containerd's root directory, derived from meta.db's path (`<root>/io.containerd.metadata.v1.bolt/meta.db`). */
export const containerdRootOf = (metaDbPath: string): string => dirname(dirname(metaDbPath));

export async function locateBackend(
  client: ContainerdClient | undefined,
  snapshotter: string,
  metaDbPath: string,
  flags: LocateFlags,
): Promise<BackendLocation> {
  let address = flags.snapshotterSocket;
  let root = flags.snapshotterRoot;
  let builtIn = false;
  if (client && (!address || !root)) {
    try {
      const plugins = await client.introspection.plugins([
        `type==${SNAPSHOTTER_PLUGIN_TYPE}`,
        `id==${snapshotter}`,
      ]);
      const plugin = plugins.find((p) => p.id === snapshotter);
      if (plugin) {
        const exported = (name: string): string | undefined => {
          const value = plugin.exports[name];
          return value === undefined ? undefined : seenFromHere(value, flags.hostRoot);
        };
        address ??= exported('address');
        root ??= exported('root');
        builtIn = plugin.exports['address'] === undefined;
      }
    } catch {
      // containerd's answer is a convenience; the flags and the default layout still apply.
    }
  }
  // Built-in snapshotters keep their data under containerd's root, in the plugin's directory.
  if (!root && (builtIn || !address))
    root = join(containerdRootOf(metaDbPath), `io.containerd.snapshotter.v1.${snapshotter}`);
  return { address, root };
}

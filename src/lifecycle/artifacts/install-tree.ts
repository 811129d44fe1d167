/** What kata-deploy keeps in the install dir besides the payload, by path relative to it. */
import { NYDUS_BASE_NAME } from '../../names/index.js';

/** Every drop-in kata-deploy writes into a handler's `config.d/`; one it no longer generates is removed. */
export const DROP_INS = [
  '10-installation-prefix.toml',
  '20-debug.toml',
  '25-devkit.toml',
  '30-kernel-params.toml',
  '50-user-overrides.toml',
  '50-overrides.toml',
];
export const DEBUG_TOOLS = ['bin/kata-ctl'];
/** The devkit extension: installed only while a `-devkit` handler uses it. */
export const DEVKIT_FILES = [
  'share/kata-containers/kata-containers-devkit-extension.img',
  'share/kata-containers/root_hash_devkit-extension.txt',
];

/** Where kata-deploy keeps one configuration directory per handler, relative to the install dir. */
export const HANDLER_PARENTS = [
  'share/defaults/kata-containers/runtimes',
  'share/defaults/kata-containers/runtime-rs/runtimes',
  'share/defaults/kata-containers/custom-runtimes',
];

/** What other planners keep in the install dir: containerd's drop-ins, the nydus snapshotter's files. */
export const OTHERS_IN_INSTALL_DIR = ['containerd', NYDUS_BASE_NAME];

/** Path of a node path inside the install dir, relative to it. */
export function relativeTo(installDir: string, nodePath: string): string {
  return nodePath.slice(installDir.length + 1);
}

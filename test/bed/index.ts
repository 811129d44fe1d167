// The real test bed: private containerd 1.6 / 1.7 / 2.1 with the real nydus-snapshotter, generated images, a
// local registry. See README.md.
export {
  ALL_VERSIONS,
  bedCacheDir,
  containerdBinaries,
  erofsUtilsBinDir,
  kubectlBinary,
  nydusBinaries,
} from './versions.js';
export { clearImmutable } from './teardown.js';
export type { ContainerdBinaries, ContainerdVersion, NydusBinaries } from './versions.js';
export { startBed, withBed } from './bed.js';
export { waitForSnapshotter } from './snapshotter-wait.js';
export type { Bed, BedOptions, CtrOptions, ImageTarget } from './types.js';
export type { NydusHandle } from './nydus.js';
export { BUSYBOX_REF, busyboxImage, chainIdsOf, generateImage, sha256 } from './image.js';
export type { GeneratedImage, ImageSpec } from './image.js';
export { startRegistry } from './registry.js';
export type { Registry } from './registry.js';
export { mountsUnder, parseMountinfo } from './mounts.js';
export type { MountEntry } from './mounts.js';
export { pidAlive, pidsMentioning } from './processes.js';
export { CommandError } from './exec.js';
export type { RunResult } from './exec.js';

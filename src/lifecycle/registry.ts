/** The snapshotter hooks this build knows. */
import type { SnapshotterHook } from './hooks.js';
import { erofsHook } from './snapshotters/erofs.js';
import { nydusHook } from './snapshotters/nydus.js';

export const snapshotterHooks: readonly SnapshotterHook[] = [nydusHook, erofsHook];

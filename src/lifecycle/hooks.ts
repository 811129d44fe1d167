/**
 * The extension point for snapshotters (`EXPERIMENTAL_SETUP_SNAPSHOTTER`). A hook adds its own steps to install
 * (after the Kata artifacts, before containerd's configuration is written) and to cleanup (first, while
 * containerd still has its configuration), and contributes tables to kata-deploy's containerd edit (proxy
 * plugins and the like), which are written and removed together with the runtime handlers.
 */
import type { ConfigEdit } from '../containerd/config/edit.js';
import type { Names } from '../names/index.js';
import type { SetupSnapshotter, Settings } from '../settings/index.js';
import type { Observed } from './observe.js';
import type { Step } from './steps.js';

export interface SnapshotterHookContext {
  readonly settings: Settings;
  readonly names: Names;
  readonly observed: Observed;
  /** The schema version of the containerd configuration kata-deploy writes. */
  readonly configVersion: number;
}

export interface SnapshotterHook {
  readonly name: SetupSnapshotter;
  /** Node paths whose text the hook needs in `observed.files`. */
  observePaths?(names: Names): readonly string[];
  planInstall(ctx: SnapshotterHookContext): readonly Step[];
  containerdEdit(ctx: SnapshotterHookContext): ConfigEdit;
  planCleanup(ctx: SnapshotterHookContext): readonly Step[];
}

/** The hooks this build knows; empty until the nydus snapshotter lands. */
export const snapshotterHooks: readonly SnapshotterHook[] = [];

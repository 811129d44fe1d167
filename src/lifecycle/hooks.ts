/**
 * The extension point for snapshotters (`EXPERIMENTAL_SETUP_SNAPSHOTTER`). A hook reads what it needs before
 * planning (`observe`), adds its own steps to install (before the Kata artifacts and containerd's
 * configuration, and a readiness check after containerd's restart) and to cleanup (first, while containerd
 * still has its configuration), and contributes tables to kata-deploy's containerd edit (proxy plugins and the
 * like), which are written and removed together with the runtime handlers. Every hook observes on every run,
 * set up or not, so an install can leave a snapshotter the previous one set up (`planRetire`).
 */
import type { ConfigEdit } from '../containerd/config/edit.js';
import type { Host } from '../host/index.js';
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
  /** What this hook's `observe` returned; undefined without one. */
  readonly facts: unknown;
}

export interface HookObserveInput {
  readonly settings: Settings;
  readonly host: Host;
  readonly names: Names;
  readonly action: 'install' | 'cleanup' | 'reset';
}

export interface SnapshotterHook {
  readonly name: SetupSnapshotter;
  /** Node paths whose text the hook needs in `observed.files`. */
  observePaths?(names: Names): readonly string[];
  /** Reads everything else planning needs (the payload, what is installed); the only I/O of a hook. */
  observe?(input: HookObserveInput): Promise<unknown>;
  planInstall(ctx: SnapshotterHookContext): readonly Step[];
  /** Steps after containerd was restarted and serves the handlers (readiness). */
  planInstallReady?(ctx: SnapshotterHookContext): readonly Step[];
  containerdEdit(ctx: SnapshotterHookContext): ConfigEdit;
  planCleanup(ctx: SnapshotterHookContext): readonly Step[];
  /**
   * An install that no longer sets this snapshotter up (transition.ts): the steps that leave it (its records
   * first), and whether it must keep serving because containers still use it — then its `containerdEdit`
   * stays and the install state records it as retained until a later run finds it free.
   */
  planRetire?(ctx: SnapshotterHookContext): { readonly steps: readonly Step[]; readonly retain: boolean };
  /** Whether an earlier install evidently set it up, for states that did not record it (older kata-deploy). */
  foundOnNode?(ctx: SnapshotterHookContext): boolean;
}

export function hookContext(
  base: Omit<SnapshotterHookContext, 'facts'>,
  hook: SnapshotterHook,
): SnapshotterHookContext {
  return { ...base, facts: base.observed.snapshotterFacts?.get(hook.name) };
}

/**
 * Changing snapshotters without a fresh node (pure). "The old snapshotter" is what the previous install
 * recorded in its state: the snapshotters it set up (`EXPERIMENTAL_SETUP_SNAPSHOTTER`), those it kept serving
 * for containers (`retained`), the handler mapping and the erofs settings it wrote. A state written before this
 * was recorded falls back to what is evidently on the node (nydus's service or data dir).
 *
 * - A snapshotter set up before and not now is left through its hook's `planRetire`: its records that no
 *   workload needs are cleaned (the cleanup engine and the wipe gate, never on missing evidence); nydus is
 *   removed once no container uses it, and kept serving (service, proxy plugin) until then.
 * - erofs set up before and now, with another merge mode or dm-verity setting: the layers were built for the
 *   old layout, so its records that no workload needs are cleaned and the next pull unpacks them anew.
 * - erofs is one per containerd: while another install on the node (MULTI_INSTALL_SUFFIX) records it as set
 *   up, its records are left alone.
 * - A snapshotter kata-deploy did not set up (overlayfs, the node's default) is never cleaned: its records
 *   belong to every workload on the node. A handler mapping that moves off it only changes the mapping.
 */
import type { SnapshotterRecord } from '../../host/index.js';
import type { Settings } from '../../settings/index.js';
import { hookContext, type SnapshotterHook, type SnapshotterHookContext } from '../hooks.js';
import type { Observed } from '../observe.js';
import type { Step } from '../steps.js';
import { EROFS_CLEAN_STEP } from './erofs.js';

export interface Transition {
  /** Steps before the new snapshotters' own: leaving the old ones. */
  readonly steps: readonly Step[];
  /** Hooks no longer set up that keep serving: their containerd configuration stays. */
  readonly retained: readonly SnapshotterHook[];
  /** What this install records for the next one. */
  readonly record: SnapshotterRecord;
}

/** Snapshotters the previous install left on the node, as its state recorded them. */
export function previousSnapshotters(record: SnapshotterRecord | undefined): Set<string> {
  return new Set([...(record?.setup ?? []), ...(record?.retained ?? [])]);
}

export function planTransition(
  settings: Settings,
  observed: Observed,
  hooks: readonly SnapshotterHook[],
  base: Omit<SnapshotterHookContext, 'facts'>,
): Transition {
  const previous = observed.state?.snapshotters;
  const before = previousSnapshotters(previous);
  const steps: Step[] = [];
  const retained: SnapshotterHook[] = [];
  for (const hook of hooks) {
    if (settings.setupSnapshotters.includes(hook.name)) continue;
    const ctx = hookContext(base, hook);
    const wasSetUp = previous === undefined ? (hook.foundOnNode?.(ctx) ?? false) : before.has(hook.name);
    if (!wasSetUp || hook.planRetire === undefined) continue;
    // erofs is one per containerd: another install on this node that sets it up still uses its records.
    if (hook.name === 'erofs' && siblingUsesErofs(observed)) continue;
    const leave = hook.planRetire(ctx);
    steps.push(...leave.steps);
    if (leave.retain) retained.push(hook);
  }
  const erofs = settings.setupSnapshotters.includes('erofs') ? settings.erofs : undefined;
  if (
    erofs !== undefined &&
    previous?.setup.includes('erofs') === true &&
    previous.erofs !== undefined &&
    (previous.erofs.merge !== erofs.merge || previous.erofs.dmverity !== erofs.dmverity) &&
    !siblingUsesErofs(observed)
  )
    steps.push(EROFS_CLEAN_STEP);
  const mapping: Record<string, string> = {};
  for (const h of observed.names.handlers)
    if (h.snapshotter !== undefined) mapping[h.handler] = h.snapshotter;
  return {
    steps,
    retained,
    record: {
      setup: [...settings.setupSnapshotters],
      mapping,
      ...(erofs === undefined ? {} : { erofs: { ...erofs } }),
      ...(retained.length > 0 ? { retained: retained.map((h) => h.name) } : {}),
    },
  };
}

function siblingUsesErofs(observed: Observed): boolean {
  return (observed.siblingStates ?? []).some((s) => s.snapshotters?.setup.includes('erofs') === true);
}

/** The hooks cleanup runs: those set up now, and those the install state says are on the node. */
export function hooksOnNode(
  settings: Settings,
  record: SnapshotterRecord | undefined,
  hooks: readonly SnapshotterHook[],
): SnapshotterHook[] {
  const before = previousSnapshotters(record);
  return hooks.filter((h) => settings.setupSnapshotters.includes(h.name) || before.has(h.name));
}

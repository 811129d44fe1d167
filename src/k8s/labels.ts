/**
 * The node labels of the DaemonSet mode (pure). `katacontainers.io/kata-runtime` is shared by every install on
 * the node: `false` while one claims the node (installing), `true` once Kata serves there. Each install also
 * owns a marker, `kata-deploy.katacontainers.io/<suffix|default>`, with the same values; RuntimeClasses select
 * both. On uninstall the shared label stays while another install's marker is `true`, is demoted to `false`
 * while others are only pending, and goes with the last one.
 */

export const SHARED_LABEL = 'katacontainers.io/kata-runtime';
export const MARKER_PREFIX = 'kata-deploy.katacontainers.io/';

/** A merge patch of labels: a string sets a label, null removes it; labels not named are left alone. */
export type LabelPatch = Readonly<Record<string, string | null>>;

export function markerLabel(suffix: string | undefined): string {
  return `${MARKER_PREFIX}${suffix ?? 'default'}`;
}

/** The labels install claims the node with, each only where it is absent (an existing value is never overwritten). */
export function claimPatch(labels: Readonly<Record<string, string>>, marker: string): LabelPatch | undefined {
  const patch: Record<string, string> = {};
  for (const key of [SHARED_LABEL, marker]) if (labels[key] === undefined) patch[key] = 'false';
  return Object.keys(patch).length === 0 ? undefined : patch;
}

export function readyPatch(marker: string): LabelPatch {
  return { [SHARED_LABEL]: 'true', [marker]: 'true' };
}

/** True when every label the patch sets has that value (and every one it removes is absent). */
export function labelsHold(labels: Readonly<Record<string, string>>, want: LabelPatch): boolean {
  return Object.entries(want).every(([k, v]) => (v === null ? labels[k] === undefined : labels[k] === v));
}

export type SharedLabelFate = 'keep' | 'demote' | 'remove';

export interface Release {
  readonly shared: SharedLabelFate;
  /** The other installs' markers that decided it. */
  readonly others: Readonly<Record<string, string>>;
  /** The patch to send; undefined when the node already carries nothing of this install. */
  readonly patch: LabelPatch | undefined;
}

/** What uninstalling this install does to the node's labels. */
export function releasePatch(labels: Readonly<Record<string, string>>, marker: string): Release {
  const others = Object.fromEntries(
    Object.entries(labels).filter(([k]) => k.startsWith(MARKER_PREFIX) && k !== marker),
  );
  const values = Object.values(others);
  const shared: SharedLabelFate = values.includes('true') ? 'keep' : values.length > 0 ? 'demote' : 'remove';
  const patch: Record<string, string | null> = {};
  if (labels[marker] !== undefined) patch[marker] = null;
  if (shared === 'remove' && labels[SHARED_LABEL] !== undefined) patch[SHARED_LABEL] = null;
  if (shared === 'demote' && labels[SHARED_LABEL] !== 'false') patch[SHARED_LABEL] = 'false';
  return { shared, others, patch: Object.keys(patch).length === 0 ? undefined : patch };
}

/** The kata-deploy labels among a node's labels, for logs and the timeline. */
export function kataLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(labels)
      .filter(([k]) => k === SHARED_LABEL || k.startsWith(MARKER_PREFIX))
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

export function describeLabels(labels: Readonly<Record<string, string>>): string {
  const entries = Object.entries(kataLabels(labels));
  return entries.length === 0 ? '(none)' : entries.map(([k, v]) => `${k}=${v}`).join(' ');
}

/** What happened to a snapshotter's data dir during one run, as the run result and the log report it. */
import type { Evidence } from '../../evidence/index.js';

export interface HeldBy {
  readonly namespace: string;
  readonly container: string;
  /** The container's task state (`RUNNING`, …), `none` without a task, `unknown` when containerd was down. */
  readonly taskStatus: string;
}

export interface SnapshotterOutcome {
  readonly snapshotter: string;
  /** Node path of the data dir. */
  readonly dataDir: string;
  /**
   * `wipe-safe` / `keep`: the verdict of the records step; `wiped` / `kept`: what the wipe step did with it.
   */
  readonly decision: 'wipe-safe' | 'keep' | 'wiped' | 'kept';
  /** How the verdict was reached: the cleanup engine through containerd, or meta.db read directly. */
  readonly source: 'engine' | 'meta.db' | 'none';
  /** Records of the snapshotter containerd still holds (meta.db), when known. */
  readonly records: number | undefined;
  /** Containers whose snapshots kept the data dir. */
  readonly heldBy: readonly HeldBy[];
  /** Why the data dir was kept, in words (empty when it was wiped). */
  readonly reasons: readonly string[];
  /** Every source the verdict rested on, seen or not. */
  readonly evidence?: readonly Evidence[];
  /** Built into containerd (erofs): its records were cleaned, its store is never wiped. */
  readonly builtIn?: boolean;
}

/** One line for the log and the text report. */
export function describeOutcome(o: SnapshotterOutcome): string {
  const records = o.records === undefined ? 'unknown number of' : String(o.records);
  if (o.builtIn) {
    const held = o.heldBy.map((h) => `${h.namespace}/${h.container} (task ${h.taskStatus})`);
    return (
      `${o.snapshotter}: ${records} records left in containerd's own store (checked via ${o.source})` +
      (held.length > 0 ? `; held by ${held.join(', ')}` : '') +
      (o.reasons.length > 0 && o.decision !== 'wipe-safe' ? `; ${o.reasons.join('; ')}` : '')
    );
  }
  if (o.decision === 'wiped' || o.decision === 'wipe-safe')
    return `${o.snapshotter}: ${o.dataDir} ${o.decision === 'wiped' ? 'wiped' : 'may be wiped'} (${records} records left, checked via ${o.source})`;
  const held = o.heldBy.map((h) => `${h.namespace}/${h.container} (task ${h.taskStatus})`);
  return (
    `${o.snapshotter}: ${o.dataDir} kept (${records} records left)` +
    (held.length > 0 ? `; held by ${held.join(', ')}` : '') +
    (o.reasons.length > 0 ? `; ${o.reasons.join('; ')}` : '')
  );
}

/**
 * Vocabulary of the snapshot cleanup engine.
 *
 * A *record* is containerd's metadata entry for a snapshot (in meta.db, keyed by its metadata key). containerd's
 * List shows only records whose backend data the snapshotter still has; records it hides are *stale*.
 * A *forest* is the parent/child graph of a namespace's records for one snapshotter.
 */
import type { TaskStatus } from '../containerd/api/index.js';
import type { Evidence } from '../evidence/index.js';

export interface SnapshotRecordView {
  key: string;
  /** The parent's metadata key; undefined for a chain's bottom layer. */
  parent: string | undefined;
  /** Child keys as meta.db stores them; undefined when only the API listing was available. */
  children: string[] | undefined;
  /** True when meta.db has the record but containerd's List hid it; undefined when List was not asked. */
  stale: boolean | undefined;
  /** Held for containerd's GC by something other than a child; undefined when unknown (no meta.db). */
  referenced?: boolean | undefined;
}

export interface ContainerView {
  id: string;
  snapshotter: string;
  snapshotKey: string;
  image: string;
}

/** What one namespace holds for the snapshotter being cleaned. */
export interface ObservedNamespace {
  namespace: string;
  records: Map<string, SnapshotRecordView>;
  /** Containers whose snapshotter is the one being cleaned. */
  containers: ContainerView[];
  /** Task status by container id, for every container of the namespace that has a task. */
  tasks: Map<string, TaskStatus>;
}

export type RemainReason =
  | { kind: 'in-use'; container: string; taskStatus: TaskStatus }
  | { kind: 'parent-of-remaining'; child: string }
  | { kind: 'dangling-child-link'; missingChildren: string[] }
  | { kind: 'backend-unreachable'; message: string }
  | { kind: 'error'; message: string };

export interface RemainingSnapshot {
  key: string;
  reason: RemainReason;
}

export interface KeptContainer {
  id: string;
  taskStatus: TaskStatus;
  snapshotKey: string;
}

/** The plan for one namespace: what goes, in which order, and what stays and why. Pure data. */
export interface NamespacePlan {
  namespace: string;
  /** Containers without a task, deleted before any snapshot. */
  deleteContainers: string[];
  /** Snapshot keys in an order where every key comes after all of its children (leaf first). */
  removalOrder: string[];
  /** Parent of each key in removalOrder that is itself in removalOrder, for the pipelined scheduler. */
  parents: Map<string, string>;
  /**
   * Records whose child list names children that no longer exist (containerd's GC deletes a record without
   * unlinking it from its parent). Remove refuses them until each missing child is re-created and removed.
   */
  relink: Map<string, string[]>;
  /** Keys of removalOrder that are nobody's parent: what a round removes explicitly. */
  leaves: string[];
  /**
   * Keys containerd's GC will sweep once the plan's leaves are gone, because nothing else holds them; only
   * known with meta.db (references). The cleanup waits for exactly these instead of removing each.
   */
  sweepable: string[] | undefined;
  keptContainers: KeptContainer[];
  kept: RemainingSnapshot[];
}

export type CleanVerdict = true | false | 'unknown';

export interface NamespaceResult {
  namespace: string;
  containersRemoved: string[];
  /** Snapshots this run removed with an explicit Remove. */
  snapshotsRemoved: number;
  /** Snapshots containerd's garbage collector swept before we reached them (Remove answered not found). */
  sweptByGc: number;
  keptContainers: KeptContainer[];
  remaining: RemainingSnapshot[];
  listingError?: string;
}

export interface CleanResult {
  snapshotter: string;
  clean: CleanVerdict;
  /** Why the result is not `clean: true`, in words: missing evidence first, then what stays. */
  reasons: string[];
  /** The sources not seen, in words (why the verdict is `unknown`); empty otherwise. */
  missing: string[];
  /** Every source the verdict rests on, seen or not. */
  evidence: Evidence[];
  /** Where the records came from: meta.db (sees stale records) and the API, or the API alone. */
  enumeration: 'metadb+api' | 'api';
  metaDbPath: string | undefined;
  dryRun: boolean;
  /** Namespaces came from the fallback list because listing them failed. */
  namespacesFallback: boolean;
  namespaces: NamespaceResult[];
  plan: NamespacePlan[] | undefined;
  rounds: number;
  apiCalls: number;
  durationMs: number;
}

/**
 * Pure planning for the cleanup engine: from what one namespace holds, decide which containers go, which
 * snapshots go and in what order (leaf first), and which stay and why. No I/O, no clock.
 */
import type {
  KeptContainer,
  NamespacePlan,
  ObservedNamespace,
  RemainReason,
  RemainingSnapshot,
} from './types.js';

/** Children of each key as far as the records tell: parent pointers, plus meta.db's child links. */
function childrenOf(records: ObservedNamespace['records']): Map<string, Set<string>> {
  const children = new Map<string, Set<string>>();
  const add = (parent: string, child: string): void => {
    let set = children.get(parent);
    if (!set) children.set(parent, (set = new Set()));
    set.add(child);
  };
  for (const record of records.values()) {
    if (record.parent !== undefined && records.has(record.parent)) add(record.parent, record.key);
    for (const child of record.children ?? []) add(record.key, child);
  }
  return children;
}

export function planNamespace(observed: ObservedNamespace): NamespacePlan {
  const { records } = observed;
  const kept = new Map<string, RemainReason>();
  const keep = (key: string, reason: RemainReason): void => {
    if (!kept.has(key)) kept.set(key, reason);
  };
  /** A kept snapshot holds its whole chain: every ancestor stays as the parent of a remaining snapshot. */
  const keepAncestors = (key: string): void => {
    const seen = new Set<string>([key]);
    let child = key;
    let parent = records.get(key)?.parent;
    while (parent !== undefined && records.has(parent) && !seen.has(parent)) {
      seen.add(parent);
      keep(parent, { kind: 'parent-of-remaining', child });
      child = parent;
      parent = records.get(parent)?.parent;
    }
  };

  // containerd's server deletes a container even while its task runs, so the task check is ours.
  const keptContainers: KeptContainer[] = [];
  const deleteContainers: string[] = [];
  for (const container of [...observed.containers].sort((a, b) => a.id.localeCompare(b.id))) {
    const taskStatus = observed.tasks.get(container.id);
    if (taskStatus === undefined) {
      deleteContainers.push(container.id);
      continue;
    }
    keptContainers.push({ id: container.id, taskStatus, snapshotKey: container.snapshotKey });
    if (records.has(container.snapshotKey)) {
      keep(container.snapshotKey, { kind: 'in-use', container: container.id, taskStatus });
      keepAncestors(container.snapshotKey);
    }
  }

  // A child link to a record that no longer exists makes Remove fail until the link is cleared.
  const relink = new Map<string, string[]>();
  for (const record of records.values()) {
    const missing = (record.children ?? []).filter((c) => !records.has(c));
    if (missing.length > 0 && !kept.has(record.key)) relink.set(record.key, missing.sort());
  }

  const children = childrenOf(records);
  const removable = [...records.keys()].filter((k) => !kept.has(k)).sort();
  const removableSet = new Set(removable);
  const pending = new Map<string, number>();
  for (const key of removable) {
    pending.set(key, [...(children.get(key) ?? [])].filter((c) => removableSet.has(c)).length);
  }

  // Kahn's algorithm from the leaves; anything never reached sits on a parent-link cycle.
  const removalOrder: string[] = [];
  const parents = new Map<string, string>();
  const queue = removable.filter((k) => pending.get(k) === 0);
  for (let i = 0; i < queue.length; i++) {
    const key = queue[i] as string;
    removalOrder.push(key);
    const parent = records.get(key)?.parent;
    if (parent === undefined || !removableSet.has(parent)) continue;
    parents.set(key, parent);
    const left = (pending.get(parent) ?? 0) - 1;
    pending.set(parent, left);
    if (left === 0) queue.push(parent);
  }
  if (removalOrder.length < removable.length) {
    const ordered = new Set(removalOrder);
    for (const key of removable) {
      if (!ordered.has(key))
        keep(key, { kind: 'error', message: 'the parent links of this record form a cycle' });
    }
  }

  const parentKeys = new Set(parents.values());
  const leaves = removalOrder.filter((k) => !parentKeys.has(k));
  const sweepable = sweepableAfter(records, removalOrder, new Set(leaves), kept);

  const keptList: RemainingSnapshot[] = [...kept.entries()]
    .map(([key, reason]) => ({ key, reason }))
    .sort((a, b) => a.key.localeCompare(b.key));
  return {
    namespace: observed.namespace,
    deleteContainers,
    removalOrder,
    parents,
    relink,
    leaves,
    sweepable,
    keptContainers,
    kept: keptList,
  };
}

/**
 * What containerd's GC sweeps once `leaves` are removed: every other planned key that no remaining record
 * or reference reaches (GC follows child to parent, and from images, containers, leases and labels).
 */
function sweepableAfter(
  records: ObservedNamespace['records'],
  removalOrder: string[],
  leaves: Set<string>,
  kept: Map<string, RemainReason>,
): string[] | undefined {
  const reached = new Set<string>();
  for (const record of records.values()) {
    if (record.referenced === undefined) return undefined;
    const holds = kept.has(record.key) || (record.referenced && !leaves.has(record.key));
    if (!holds) continue;
    let key: string | undefined = record.key;
    while (key !== undefined && !reached.has(key)) {
      reached.add(key);
      key = records.get(key)?.parent;
    }
  }
  return removalOrder.filter((k) => !leaves.has(k) && !reached.has(k));
}

/** One line describing why a snapshot stays. */
export function describeReason(reason: RemainReason): string {
  switch (reason.kind) {
    case 'in-use':
      return `used by container ${reason.container} (task ${reason.taskStatus})`;
    case 'parent-of-remaining':
      return `parent of remaining snapshot ${reason.child}`;
    case 'dangling-child-link':
      return `dangling child link to ${reason.missingChildren.join(', ')} (a child containerd's GC deleted without unlinking it)`;
    case 'backend-unreachable':
      return `snapshotter unreachable: ${reason.message}`;
    case 'error':
      return reason.message;
  }
}

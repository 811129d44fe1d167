/**
 * The split-brain doctor, pure: compares containerd's records of a snapshotter (meta.db) with what the
 * snapshotter itself holds, and explains every mismatch.
 *
 * - stale record: meta.db has it, the backend lacks its backend key. containerd's List hides it; a pull of an
 *   image whose chain contains it fails with "target snapshot … already exists" or "missing parent".
 * - orphaned backend snapshot: the backend has it, no record names it (containerd's GC removes these).
 * - dangling child link: a record lists a child that no longer exists; Remove refuses the record forever.
 */
import type { MetaDbView, NamespaceView } from '../containerd/metadb/index.js';
import type { BackendInventory } from './backend.js';

const GC_REF_CONTENT = 'containerd.io/gc.ref.content';
const GC_REF_SNAPSHOT = 'containerd.io/gc.ref.snapshot.';
const GC_ROOT = 'containerd.io/gc.root';

export type Holder =
  | { kind: 'image'; name: string }
  | { kind: 'container'; id: string }
  | { kind: 'lease'; id: string }
  | { kind: 'gc-root'; key: string };

export interface StaleRecord {
  namespace: string;
  key: string;
  backendKey: string;
  parent: string | undefined;
  /** What keeps the record alive for containerd's GC (directly or through a descendant). */
  heldBy: Holder[];
}

export interface DanglingLink {
  namespace: string;
  key: string;
  missingChildren: string[];
  /** Whether the record itself is stale: then re-creating the child under it is impossible. */
  stale: boolean;
  remedy: string;
}

export interface BrokenImage {
  namespace: string;
  name: string;
  staleKeys: string[];
}

export interface DoctorReport {
  snapshotter: string;
  metaDbPath: string;
  backend: { known: true; source: string; snapshots: number } | { known: false; reason: string };
  records: number;
  staleRecords: StaleRecord[];
  orphanedBackendSnapshots: string[];
  danglingLinks: DanglingLink[];
  /** Images whose next pull or import fails because their chain holds stale records. */
  brokenImages: BrokenImage[];
  /** No stale record and no dangling link (orphaned backend snapshots are reported, not counted). */
  healthy: boolean | 'unknown';
}

/** The top snapshot keys an image holds: image → index/manifest → config labels, following gc.ref labels. */
export function imageTops(ns: NamespaceView, digest: string | undefined, snapshotter: string): string[] {
  const tops = new Set<string>();
  const seen = new Set<string>();
  const queue = digest ? [digest] : [];
  while (queue.length > 0) {
    const d = queue.pop() as string;
    if (seen.has(d)) continue;
    seen.add(d);
    for (const [label, value] of Object.entries(ns.contentLabels.get(d) ?? {})) {
      if (label.startsWith(GC_REF_CONTENT)) queue.push(value);
      else if (
        label === `${GC_REF_SNAPSHOT}${snapshotter}` ||
        label.startsWith(`${GC_REF_SNAPSHOT}${snapshotter}/`)
      ) {
        tops.add(value);
      }
    }
  }
  return [...tops];
}

function holdersByKey(ns: NamespaceView, snapshotter: string): Map<string, Holder[]> {
  const held = new Map<string, Holder[]>();
  const add = (key: string | undefined, holder: Holder): void => {
    if (!key) return;
    const list = held.get(key) ?? [];
    list.push(holder);
    held.set(key, list);
  };
  for (const image of ns.images.values()) {
    for (const top of imageTops(ns, image.target.digest, snapshotter))
      add(top, { kind: 'image', name: image.name });
  }
  for (const c of ns.containers.values())
    if (c.snapshotter === snapshotter) add(c.snapshotKey, { kind: 'container', id: c.id });
  for (const lease of ns.leases.values())
    for (const key of lease.snapshots.get(snapshotter) ?? []) add(key, { kind: 'lease', id: lease.id });
  for (const [key, record] of ns.snapshotters.get(snapshotter)?.snapshots ?? []) {
    if (record.labels[GC_ROOT] !== undefined) add(key, { kind: 'gc-root', key });
  }
  return held;
}

const holderId = (h: Holder): string => `${h.kind}:${'name' in h ? h.name : 'id' in h ? h.id : h.key}`;

export function diagnose(view: MetaDbView, snapshotter: string, backend: BackendInventory): DoctorReport {
  const staleRecords: StaleRecord[] = [];
  const danglingLinks: DanglingLink[] = [];
  const brokenImages: BrokenImage[] = [];
  const recordedBackendKeys = new Set<string>();
  let records = 0;

  for (const ns of view.namespaces) {
    const snapshots = ns.snapshotters.get(snapshotter)?.snapshots;
    if (!snapshots) continue;
    records += snapshots.size;
    const isStale = (key: string): boolean => {
      const record = snapshots.get(key);
      return backend.known && record !== undefined && !backend.keys.has(record.backendKey);
    };
    // Everything a holder keeps alive: its key and every ancestor.
    const heldBy = new Map<string, Map<string, Holder>>();
    for (const [key, holders] of holdersByKey(ns, snapshotter)) {
      const seen = new Set<string>();
      for (
        let k: string | undefined = key;
        k !== undefined && snapshots.has(k) && !seen.has(k);
        k = snapshots.get(k)?.parent
      ) {
        seen.add(k);
        const map = heldBy.get(k) ?? new Map<string, Holder>();
        for (const h of holders) map.set(holderId(h), h);
        heldBy.set(k, map);
      }
    }
    for (const [key, record] of snapshots) {
      recordedBackendKeys.add(record.backendKey);
      const stale = isStale(key);
      if (stale) {
        staleRecords.push({
          namespace: ns.name,
          key,
          backendKey: record.backendKey,
          parent: record.parent,
          heldBy: [...(heldBy.get(key)?.values() ?? [])],
        });
      }
      const missing = record.children.filter((c) => !snapshots.has(c));
      if (missing.length > 0) {
        const images = [...(heldBy.get(key)?.values() ?? [])]
          .filter((h) => h.kind === 'image')
          .map((h) => (h as { name: string }).name);
        danglingLinks.push({
          namespace: ns.name,
          key,
          missingChildren: missing.sort(),
          stale,
          remedy: stale
            ? `its backend data is gone, so the link cannot be cleared by re-creating the child: run \`kata-deploy snapshots repair --drop-images\` to delete what holds it (${images.join(', ') || 'nothing else'}) and let containerd's GC sweep it`
            : '`kata-deploy snapshots repair` re-creates each missing child under it and removes it through containerd, which clears the link',
        });
      }
    }
    for (const image of ns.images.values()) {
      const staleKeys = new Set<string>();
      for (const top of imageTops(ns, image.target.digest, snapshotter)) {
        const seen = new Set<string>();
        for (
          let k: string | undefined = top;
          k !== undefined && snapshots.has(k) && !seen.has(k);
          k = snapshots.get(k)?.parent
        ) {
          seen.add(k);
          if (isStale(k)) staleKeys.add(k);
        }
      }
      if (staleKeys.size > 0)
        brokenImages.push({ namespace: ns.name, name: image.name, staleKeys: [...staleKeys].sort() });
    }
  }

  const orphanedBackendSnapshots = backend.known
    ? [...backend.keys].filter((k) => !recordedBackendKeys.has(k)).sort()
    : [];
  // Orphaned backend snapshots are reported but do not make the snapshotter unhealthy: nothing can trip over
  // them, and containerd's GC deletes them the next time it cleans this snapshotter (they appear briefly after
  // every Remove, before that GC pass).
  const problems = staleRecords.length + danglingLinks.length;
  return {
    snapshotter,
    metaDbPath: view.path,
    backend: backend.known
      ? { known: true, source: backend.source, snapshots: backend.keys.size }
      : { known: false, reason: backend.reason },
    records,
    staleRecords: staleRecords.sort((a, b) =>
      `${a.namespace}/${a.key}`.localeCompare(`${b.namespace}/${b.key}`),
    ),
    orphanedBackendSnapshots,
    danglingLinks,
    brokenImages,
    healthy: !backend.known ? (danglingLinks.length > 0 ? false : 'unknown') : problems === 0,
  };
}

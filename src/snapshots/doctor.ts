/**
 * The split-brain doctor, pure: compares containerd's records of a snapshotter (meta.db) with what the
 * snapshotter itself holds, and explains every mismatch.
 *
 * - stale record: meta.db has it, the backend lacks its backend key. containerd's List hides it; a pull of an
 *   image whose chain contains it fails with "target snapshot … already exists" or "missing parent".
 * - orphaned backend snapshot: the backend has it, no record names it (containerd's GC removes these).
 * - dangling child link: a record lists a child that no longer exists; Remove refuses the record forever.
 */
import type { MetaDbView } from '../containerd/metadb/index.js';
import { describeMissing, judge, seen, type Evidence } from '../evidence/index.js';
import type { BackendInventory } from './backend.js';
import { gcHolders, holderId, imageReach, type Holder } from './holders.js';

export type { Holder } from './holders.js';

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
  /** What the verdict rests on: meta.db (where it was found) and the backend's inventory. */
  evidence: Evidence[];
  /** Why the verdict is `unknown`, in words; empty otherwise. */
  missing: string[];
  backend: { known: true; source: string; snapshots: number } | { known: false; reason: string };
  records: number;
  staleRecords: StaleRecord[];
  orphanedBackendSnapshots: string[];
  danglingLinks: DanglingLink[];
  /** Images whose next pull or import fails because their chain holds stale records. */
  brokenImages: BrokenImage[];
  /**
   * `true`: meta.db and the backend were both seen and there is no stale record and no dangling link
   * (orphaned backend snapshots are reported, not counted). `false`: a problem was seen. `unknown` otherwise.
   */
  healthy: boolean | 'unknown';
}

const REQUIRED = ['meta-db', 'backend-inventory'] as const;

/**
 * `metaDb`: how meta.db's path was found (the locator's evidence); a view read from a path nobody named
 * (a default) cannot make the verdict healthy.
 */
export function diagnose(
  view: MetaDbView,
  snapshotter: string,
  backend: BackendInventory,
  metaDb: Evidence = seen('meta-db', 'meta.db', view.path),
): DoctorReport {
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
    for (const [key, holders] of gcHolders(ns, snapshotter)) {
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
      for (const top of imageReach(ns, image.target?.digest, snapshotter).tops) {
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
  const evidence = [metaDb, backend.evidence];
  // Dangling links are read from meta.db alone; stale records need the backend too.
  const against = [...danglingLinks.map((d) => d.key), ...staleRecords.map((r) => r.key)];
  const verdict = judge(evidence, REQUIRED, against);
  const linksSeen = metaDb.status === 'seen' && danglingLinks.length > 0;
  const healthy = verdict === 'positive' ? true : verdict === 'negative' || linksSeen ? false : 'unknown';
  return {
    snapshotter,
    metaDbPath: view.path,
    evidence,
    missing: describeMissing(evidence, REQUIRED),
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
    healthy,
  };
}

/**
 * What holds a snapshot record for containerd's garbage collector, computed once from a decoded meta.db
 * namespace. The GC keeps a record alive when something reaches it: an image (through its index, manifest
 * and config blobs' `containerd.io/gc.ref.snapshot.<snapshotter>` labels, or its own labels), a container
 * (its snapshot key and labels), a lease, a `containerd.io/gc.root` label on the record, or a gc.ref label on
 * another record or on a content blob. A blob no image reaches is counted as holding too: we over-count
 * rather than call something unreferenced that the GC would keep. Children hold their parents; callers walk
 * the chains themselves.
 */
import type { NamespaceView } from '../containerd/metadb/index.js';

const GC_REF_CONTENT = 'containerd.io/gc.ref.content';
const GC_REF_SNAPSHOT = 'containerd.io/gc.ref.snapshot.';
const GC_ROOT = 'containerd.io/gc.root';

export type Holder =
  | { readonly kind: 'image'; readonly name: string }
  | { readonly kind: 'container'; readonly id: string }
  | { readonly kind: 'lease'; readonly id: string }
  | { readonly kind: 'gc-root'; readonly key: string }
  /** A gc.ref label on a content blob that no image reaches. */
  | { readonly kind: 'content'; readonly digest: string }
  /** A gc.ref label on another snapshot record. */
  | { readonly kind: 'snapshot'; readonly key: string };

/** The keys of `snapshotter` that gc.ref labels name (`…snapshot.<snapshotter>` or `…snapshot.<snapshotter>/<n>`). */
function snapshotRefs(labels: Readonly<Record<string, string>>, snapshotter: string): string[] {
  const keys: string[] = [];
  for (const [label, value] of Object.entries(labels)) {
    if (!label.startsWith(GC_REF_SNAPSHOT)) continue;
    const target = label.slice(GC_REF_SNAPSHOT.length);
    if (target === snapshotter || target.startsWith(`${snapshotter}/`)) keys.push(value);
  }
  return keys;
}

/** The blobs an image reaches from its target, and the top snapshot keys their labels name. */
export function imageReach(
  ns: NamespaceView,
  digest: string | undefined,
  snapshotter: string,
): { tops: string[]; blobs: Set<string> } {
  const tops = new Set<string>();
  const blobs = new Set<string>();
  const queue = digest ? [digest] : [];
  while (queue.length > 0) {
    const d = queue.pop() as string;
    if (blobs.has(d)) continue;
    blobs.add(d);
    const labels = ns.contentLabels.get(d) ?? {};
    for (const [label, value] of Object.entries(labels))
      if (label.startsWith(GC_REF_CONTENT)) queue.push(value);
    for (const key of snapshotRefs(labels, snapshotter)) tops.add(key);
  }
  return { tops: [...tops], blobs };
}

/** Every record of `snapshotter` something holds directly, with what holds it. */
export function gcHolders(ns: NamespaceView, snapshotter: string): Map<string, Holder[]> {
  const held = new Map<string, Holder[]>();
  const add = (key: string | undefined, holder: Holder): void => {
    if (!key) return;
    const list = held.get(key) ?? [];
    list.push(holder);
    held.set(key, list);
  };
  const reached = new Set<string>();
  for (const image of ns.images.values()) {
    const holder: Holder = { kind: 'image', name: image.name };
    const { tops, blobs } = imageReach(ns, image.target?.digest, snapshotter);
    for (const blob of blobs) reached.add(blob);
    for (const key of [...tops, ...snapshotRefs(image.labels, snapshotter)]) add(key, holder);
  }
  for (const [digest, labels] of ns.contentLabels) {
    if (!reached.has(digest))
      for (const key of snapshotRefs(labels, snapshotter)) add(key, { kind: 'content', digest });
  }
  for (const c of ns.containers.values()) {
    const holder: Holder = { kind: 'container', id: c.id };
    if (c.snapshotter === snapshotter) add(c.snapshotKey, holder);
    for (const key of snapshotRefs(c.labels, snapshotter)) add(key, holder);
  }
  for (const lease of ns.leases.values())
    for (const key of lease.snapshots.get(snapshotter) ?? []) add(key, { kind: 'lease', id: lease.id });
  for (const [key, record] of ns.snapshotters.get(snapshotter)?.snapshots ?? []) {
    if (record.labels[GC_ROOT] !== undefined) add(key, { kind: 'gc-root', key });
    for (const ref of snapshotRefs(record.labels, snapshotter)) add(ref, { kind: 'snapshot', key });
  }
  return held;
}

/** Keys the GC treats as held by something other than a child. */
export const referencedKeys = (ns: NamespaceView, snapshotter: string): Set<string> =>
  new Set(gcHolders(ns, snapshotter).keys());

export const holderId = (h: Holder): string =>
  `${h.kind}:${'name' in h ? h.name : 'id' in h ? h.id : 'digest' in h ? h.digest : h.key}`;

/** Test-only: builds containerd meta.db trees (schema.ts) for the bolt writer, and the value encoders. */
import * as S from '../schema.js';
import { tree, type BoltTree, type BoltValue } from './bolt-writer.js';

const GO_EPOCH_TO_UNIX = 62135596800n;

/** Go time.MarshalBinary, version 1, UTC (offset -1), as containerd stores timestamps. */
export function goTime(date: Date, nanos = (date.getTime() % 1000) * 1e6): Buffer {
  const out = Buffer.alloc(15);
  out[0] = 1;
  out.writeBigInt64BE(BigInt(Math.floor(date.getTime() / 1000)) + GO_EPOCH_TO_UNIX, 1);
  out.writeInt32BE(nanos, 9);
  out.writeInt16BE(-1, 13);
  return out;
}

/** Go binary.PutVarint (zigzag LEB128). */
export function goVarint(value: number | bigint): Buffer {
  const n = BigInt(value);
  let zz = n < 0n ? (-n << 1n) - 1n : n << 1n;
  const bytes: number[] = [];
  while (zz >= 0x80n) {
    bytes.push(Number(zz & 0x7fn) | 0x80);
    zz >>= 7n;
  }
  bytes.push(Number(zz));
  return Buffer.from(bytes);
}

export interface FixtureSnapshot {
  readonly key: string;
  readonly backendKey?: string;
  readonly parent?: string;
  readonly children?: readonly string[];
  readonly labels?: Record<string, string>;
  readonly createdAt?: Date;
}

export interface FixtureContainer {
  readonly id: string;
  readonly snapshotter?: string;
  readonly snapshotKey?: string;
  readonly image?: string;
  readonly runtime?: string;
  readonly labels?: Record<string, string>;
  readonly createdAt?: Date;
}

export interface FixtureImage {
  readonly name: string;
  readonly digest: string;
  readonly mediaType?: string;
  readonly size?: number;
  readonly labels?: Record<string, string>;
}

export interface FixtureLease {
  readonly id: string;
  readonly snapshots?: Record<string, readonly string[]>;
  readonly content?: readonly string[];
  readonly labels?: Record<string, string>;
}

export interface FixtureNamespace {
  readonly labels?: Record<string, string>;
  readonly snapshotters?: Record<string, { sequence?: bigint; snapshots: readonly FixtureSnapshot[] }>;
  readonly containers?: readonly FixtureContainer[];
  readonly images?: readonly FixtureImage[];
  readonly blobs?: Record<string, Record<string, string>>;
  readonly leases?: readonly FixtureLease[];
}

const CREATED = new Date('2024-05-01T12:00:00.123Z');

function labelsTree(labels: Record<string, string> | undefined): [string, BoltTree][] {
  return labels && Object.keys(labels).length > 0 ? [[S.KEY_LABELS, tree(labels)]] : [];
}

function keySet(keys: readonly string[]): BoltTree {
  return tree(keys.map((k) => [k, ''] as const));
}

function snapshotTree(ns: string, seq: number, s: FixtureSnapshot): BoltTree {
  const entries: [string, BoltValue | BoltTree][] = [
    [S.SNAPSHOT_NAME, s.backendKey ?? `${ns}/${seq}/${s.key}`],
    [S.KEY_CREATED_AT, goTime(s.createdAt ?? CREATED)],
    [S.KEY_UPDATED_AT, goTime(s.createdAt ?? CREATED)],
    ...labelsTree(s.labels),
  ];
  if (s.parent !== undefined) entries.push([S.SNAPSHOT_PARENT, s.parent]);
  if (s.children && s.children.length > 0) entries.push([S.SNAPSHOT_CHILDREN, keySet(s.children)]);
  return tree(entries);
}

function namespaceTree(name: string, ns: FixtureNamespace): BoltTree {
  const entries: [string, BoltTree][] = [...labelsTree(ns.labels)];
  if (ns.snapshotters) {
    const snapshotters = Object.entries(ns.snapshotters).map(([sn, { sequence, snapshots }]) => {
      const records = snapshots.map((s, i) => [s.key, snapshotTree(name, i + 1, s)] as const);
      return [sn, tree(records, { sequence: sequence ?? BigInt(snapshots.length) })] as const;
    });
    entries.push([S.NS_SNAPSHOTS, tree(snapshotters)]);
  }
  if (ns.containers) {
    const containers = ns.containers.map((c) => {
      const fields: [string, BoltValue | BoltTree][] = [
        [S.KEY_CREATED_AT, goTime(c.createdAt ?? CREATED)],
        [S.KEY_UPDATED_AT, goTime(c.createdAt ?? CREATED)],
        [S.CONTAINER_IMAGE, c.image ?? ''],
        [S.CONTAINER_SNAPSHOTTER, c.snapshotter ?? ''],
        [S.CONTAINER_SNAPSHOT_KEY, c.snapshotKey ?? ''],
        ['spec', Buffer.from([0x0a, 0x01, 0x78])],
        [S.CONTAINER_RUNTIME, tree({ [S.RUNTIME_NAME]: c.runtime ?? 'io.containerd.runc.v2' })],
        ...labelsTree(c.labels),
      ];
      return [c.id, tree(fields)] as const;
    });
    entries.push([S.NS_CONTAINERS, tree(containers)]);
  }
  if (ns.images) {
    const images = ns.images.map((img) => {
      const target = tree({
        [S.TARGET_DIGEST]: img.digest,
        [S.TARGET_MEDIA_TYPE]: img.mediaType ?? 'application/vnd.oci.image.manifest.v1+json',
        [S.TARGET_SIZE]: goVarint(img.size ?? 1234),
      });
      const fields: [string, BoltValue | BoltTree][] = [
        [S.KEY_CREATED_AT, goTime(CREATED)],
        [S.KEY_UPDATED_AT, goTime(CREATED)],
        [S.IMAGE_TARGET, target],
        ...labelsTree(img.labels),
      ];
      return [img.name, tree(fields)] as const;
    });
    entries.push([S.NS_IMAGES, tree(images)]);
  }
  if (ns.blobs) {
    const blobs = Object.entries(ns.blobs).map(([digest, labels]) => {
      const fields: [string, BoltValue | BoltTree][] = [
        [S.KEY_CREATED_AT, goTime(CREATED)],
        [S.KEY_UPDATED_AT, goTime(CREATED)],
        [S.BLOB_SIZE, goVarint(100)],
        ...labelsTree(labels),
      ];
      return [digest, tree(fields)] as const;
    });
    entries.push([S.NS_CONTENT, tree({ [S.CONTENT_BLOB]: tree(blobs), [S.CONTENT_INGESTS]: tree([]) })]);
  }
  if (ns.leases) {
    const leases = ns.leases.map((l) => {
      const fields: [string, BoltValue | BoltTree][] = [
        [S.KEY_CREATED_AT, goTime(CREATED)],
        ...labelsTree(l.labels),
      ];
      if (l.snapshots) {
        const bySn = Object.entries(l.snapshots).map(([sn, keys]) => [sn, keySet(keys)] as const);
        fields.push([S.LEASE_SNAPSHOTS, tree(bySn)]);
      }
      if (l.content) fields.push([S.LEASE_CONTENT, keySet(l.content)]);
      return [l.id, tree(fields)] as const;
    });
    entries.push([S.NS_LEASES, tree(leases)]);
  }
  return tree(entries);
}

/** A whole meta.db tree: `v1` with `version` and the given namespaces. */
export function metaDbTree(spec: {
  dbVersion?: number;
  namespaces: Record<string, FixtureNamespace>;
}): BoltTree {
  const namespaces = Object.entries(spec.namespaces).map(
    ([name, ns]) => [name, namespaceTree(name, ns)] as const,
  );
  const v1 = tree([[S.DB_VERSION_KEY, goVarint(spec.dbVersion ?? 3)], ...namespaces]);
  return tree([[S.SCHEMA_VERSION_BUCKET, v1]]);
}

/** A chain of committed layer snapshots `sha256:<prefix>0..n-1`, each the parent of the next. */
export function layerChain(prefix: string, n: number, start = 0): FixtureSnapshot[] {
  const key = (i: number) => `sha256:${prefix}${String(i).padStart(6, '0')}`;
  return Array.from({ length: n }, (_, j) => {
    const i = start + j;
    return {
      key: key(i),
      ...(j > 0 ? { parent: key(i - 1) } : {}),
      ...(j < n - 1 ? { children: [key(i + 1)] } : {}),
      labels: { 'containerd.io/snapshot.ref': key(i) },
    };
  });
}

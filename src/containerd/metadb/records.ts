/** Decoders for the records of one namespace: snapshots, containers, images, content blobs and leases. */
import type { BoltBucket } from './bucket.js';
import {
  forEachBucket,
  malformed,
  readKeys,
  readLabels,
  readSize,
  readTime,
  type DecodeContext,
  type Where,
} from './fields.js';
import * as S from './schema.js';
import type {
  ContainerRecord,
  ImageRecord,
  ImageTarget,
  Labels,
  LeaseRecord,
  SnapshotRecord,
  SnapshotterView,
} from './types.js';

function decodeSnapshot(ctx: DecodeContext, key: string, record: BoltBucket, where: Where): SnapshotRecord {
  let backendKey: string | undefined;
  let parent: string | undefined;
  let createdAt: Date | undefined;
  let updatedAt: Date | undefined;
  let children: string[] = [];
  let labels: Labels | undefined;
  record.forEach((field, e) => {
    switch (field) {
      case S.SNAPSHOT_NAME:
        backendKey = e.text();
        break;
      case S.SNAPSHOT_PARENT:
        parent = e.text();
        break;
      case S.KEY_CREATED_AT:
        createdAt = readTime(ctx, e.value(), where, field);
        break;
      case S.KEY_UPDATED_AT:
        updatedAt = readTime(ctx, e.value(), where, field);
        break;
      case S.SNAPSHOT_CHILDREN:
        children = readKeys(e.bucket());
        break;
      case S.KEY_LABELS:
        labels = readLabels(e.bucket());
        break;
    }
  });
  if (backendKey === undefined)
    throw malformed(ctx, where(), 'the snapshot record has no "name" (backend key)');
  return { key, backendKey, parent, children, labels: labels ?? {}, createdAt, updatedAt };
}

export function decodeSnapshotter(ctx: DecodeContext, bucket: BoltBucket, where: string): SnapshotterView {
  const snapshots = new Map<string, SnapshotRecord>();
  forEachBucket(bucket, (key, record) => {
    snapshots.set(
      key,
      decodeSnapshot(ctx, key, record, () => `${where}/${key}`),
    );
  });
  return { sequence: bucket.sequence, snapshots };
}

function decodeContainer(ctx: DecodeContext, id: string, record: BoltBucket, where: Where): ContainerRecord {
  const c: { -readonly [K in keyof ContainerRecord]: ContainerRecord[K] } = { id, labels: {} };
  record.forEach((field, e) => {
    switch (field) {
      case S.CONTAINER_SNAPSHOTTER:
        c.snapshotter = e.text();
        break;
      case S.CONTAINER_SNAPSHOT_KEY:
        c.snapshotKey = e.text();
        break;
      case S.CONTAINER_IMAGE:
        c.image = e.text();
        break;
      case S.CONTAINER_SANDBOX_ID:
        c.sandboxId = e.text();
        break;
      case S.CONTAINER_RUNTIME: {
        const name = e.bucket()?.get(S.RUNTIME_NAME);
        if (name) c.runtime = Buffer.from(name).toString('utf8');
        break;
      }
      case S.KEY_LABELS:
        c.labels = readLabels(e.bucket());
        break;
      case S.KEY_CREATED_AT:
        c.createdAt = readTime(ctx, e.value(), where, field);
        break;
      case S.KEY_UPDATED_AT:
        c.updatedAt = readTime(ctx, e.value(), where, field);
        break;
    }
  });
  return c;
}

export function decodeContainers(
  ctx: DecodeContext,
  bucket: BoltBucket | undefined,
  where: string,
): Map<string, ContainerRecord> {
  const containers = new Map<string, ContainerRecord>();
  forEachBucket(bucket, (id, record) =>
    containers.set(
      id,
      decodeContainer(ctx, id, record, () => `${where}/${id}`),
    ),
  );
  return containers;
}

function decodeTarget(ctx: DecodeContext, bucket: BoltBucket, where: Where): ImageTarget {
  const target: { -readonly [K in keyof ImageTarget]: ImageTarget[K] } = {};
  bucket.forEach((field, e) => {
    if (field === S.TARGET_DIGEST) target.digest = e.text();
    else if (field === S.TARGET_MEDIA_TYPE) target.mediaType = e.text();
    else if (field === S.TARGET_SIZE) target.size = readSize(ctx, e.value(), where, field);
  });
  return target;
}

export function decodeImages(
  ctx: DecodeContext,
  bucket: BoltBucket | undefined,
  where: string,
): Map<string, ImageRecord> {
  const images = new Map<string, ImageRecord>();
  forEachBucket(bucket, (name, record) => {
    const at = () => `${where}/${name}`;
    const target = record.bucket(S.IMAGE_TARGET);
    if (!target) throw malformed(ctx, at(), 'the image record has no "target" bucket');
    images.set(name, {
      name,
      target: decodeTarget(ctx, target, () => `${at()}/${S.IMAGE_TARGET}`),
      labels: readLabels(record.bucket(S.KEY_LABELS)),
      createdAt: readTime(ctx, record.get(S.KEY_CREATED_AT), at, S.KEY_CREATED_AT),
      updatedAt: readTime(ctx, record.get(S.KEY_UPDATED_AT), at, S.KEY_UPDATED_AT),
    });
  });
  return images;
}

export function decodeContentLabels(bucket: BoltBucket | undefined): Map<string, Labels> {
  const labels = new Map<string, Labels>();
  forEachBucket(bucket?.bucket(S.CONTENT_BLOB), (digest, blob) =>
    labels.set(digest, readLabels(blob.bucket(S.KEY_LABELS))),
  );
  return labels;
}

export function decodeLeases(
  ctx: DecodeContext,
  bucket: BoltBucket | undefined,
  where: string,
): Map<string, LeaseRecord> {
  const leases = new Map<string, LeaseRecord>();
  forEachBucket(bucket, (id, lease) => {
    const snapshots = new Map<string, string[]>();
    forEachBucket(lease.bucket(S.LEASE_SNAPSHOTS), (snapshotter, keys) =>
      snapshots.set(snapshotter, readKeys(keys)),
    );
    leases.set(id, {
      id,
      labels: readLabels(lease.bucket(S.KEY_LABELS)),
      createdAt: readTime(ctx, lease.get(S.KEY_CREATED_AT), () => `${where}/${id}`, S.KEY_CREATED_AT),
      snapshots,
      content: readKeys(lease.bucket(S.LEASE_CONTENT)),
      ingests: readKeys(lease.bucket(S.LEASE_INGESTS)),
      images: readKeys(lease.bucket(S.LEASE_IMAGES)),
    });
  });
  return leases;
}

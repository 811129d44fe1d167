// Deterministic OCI image-layout archives for `ctr images import`, built in-process (no docker, no network).
// Layers are uncompressed tars, so each layer's digest is also its diffID.
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { createTar, type TarEntry } from './tar.js';

export interface ImageSpec {
  /** Image reference as it appears in `ctr images ls`, e.g. 'test/img-3:latest'. */
  name: string;
  layers: number;
  seed: string;
  /** The first `count` layers are byte-identical to those of any other image with the same shared seed. */
  sharedLowerLayers?: { seed: string; count: number };
}

export interface GeneratedImage {
  ref: string;
  tarPath: string;
  diffIds: string[];
  /** sha256:… per layer, bottom first; committed snapshot keys in a proxy snapshotter are `sha256:<chainID>`. */
  chainIds: string[];
  configDigest: string;
  manifestDigest: string;
}

export const MEDIA_TYPES = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
} as const;

interface Blob {
  digest: string;
  bytes: Buffer;
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function blob(bytes: Buffer): Blob {
  return { digest: sha256(bytes), bytes };
}

/** chain[0] = diff[0]; chain[i] = sha256(chain[i-1] + " " + diff[i]). */
export function chainIdsOf(diffIds: readonly string[]): string[] {
  const chain: string[] = [];
  for (const diff of diffIds) {
    const previous = chain[chain.length - 1];
    chain.push(previous === undefined ? diff : sha256(`${previous} ${diff}`));
  }
  return chain;
}

/** A tiny layer: two files whose content depends only on (seed, index). */
function syntheticLayer(seed: string, index: number): Buffer {
  const tag = createHash('sha256').update(`${seed}\0${index}`).digest('hex');
  const entries: TarEntry[] = [
    { type: 'dir', name: 'data' },
    {
      type: 'file',
      name: `data/layer-${index}-${tag.slice(0, 12)}.txt`,
      content: Buffer.from(`${seed} ${index}\n`),
    },
    { type: 'file', name: `data/layer-${index}.bin`, content: Buffer.from(tag, 'hex') },
  ];
  return createTar(entries);
}

function layerSeed(spec: ImageSpec, index: number): string {
  const shared = spec.sharedLowerLayers;
  // Prefixes keep a shared seed from colliding with an unshared image that happens to use the same string.
  return shared && index < shared.count ? `shared:${shared.seed}` : `own:${spec.seed}`;
}

function validateSpec(spec: ImageSpec): void {
  if (!Number.isInteger(spec.layers) || spec.layers < 1) {
    throw new Error(`image spec "${spec.name}": layers must be a positive integer, got ${spec.layers}`);
  }
  const shared = spec.sharedLowerLayers;
  if (shared && (!Number.isInteger(shared.count) || shared.count < 0 || shared.count > spec.layers)) {
    throw new Error(
      `image spec "${spec.name}": sharedLowerLayers.count must be between 0 and layers (${spec.layers}), got ${shared.count}`,
    );
  }
}

interface ImageContent {
  layers: Blob[];
  config: Record<string, unknown>;
}

/** Assembles the OCI image layout archive and writes it atomically to outDir. */
async function writeLayout(name: string, content: ImageContent, outDir: string): Promise<GeneratedImage> {
  const diffIds = content.layers.map((l) => l.digest);
  const config = blob(
    Buffer.from(JSON.stringify({ ...content.config, rootfs: { type: 'layers', diff_ids: diffIds } })),
  );
  const manifest = blob(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.manifest,
        config: { mediaType: MEDIA_TYPES.config, digest: config.digest, size: config.bytes.length },
        layers: content.layers.map((l) => ({
          mediaType: MEDIA_TYPES.layer,
          digest: l.digest,
          size: l.bytes.length,
        })),
      }),
    ),
  );
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.index,
    manifests: [
      {
        mediaType: MEDIA_TYPES.manifest,
        digest: manifest.digest,
        size: manifest.bytes.length,
        platform: { architecture: 'amd64', os: 'linux' },
        annotations: { 'org.opencontainers.image.ref.name': name },
      },
    ],
  };
  const unique = new Map<string, Blob>();
  for (const b of [...content.layers, config, manifest]) unique.set(b.digest, b);
  const entries: TarEntry[] = [
    { type: 'file', name: 'oci-layout', content: Buffer.from('{"imageLayoutVersion":"1.0.0"}') },
    { type: 'file', name: 'index.json', content: Buffer.from(JSON.stringify(index)) },
    { type: 'dir', name: 'blobs' },
    { type: 'dir', name: 'blobs/sha256' },
    ...[...unique.values()].map((b): TarEntry => ({
      type: 'file',
      name: `blobs/sha256/${b.digest.slice(7)}`,
      content: b.bytes,
    })),
  ];
  await mkdir(outDir, { recursive: true });
  const tarPath = path.join(outDir, `${name.replace(/[^A-Za-z0-9._-]+/g, '_')}.tar`);
  const temp = `${tarPath}.${process.pid}.tmp`;
  await writeFile(temp, createTar(entries));
  await rename(temp, tarPath);
  return {
    ref: name,
    tarPath,
    diffIds,
    chainIds: chainIdsOf(diffIds),
    configDigest: config.digest,
    manifestDigest: manifest.digest,
  };
}

/** Same spec → same bytes and digests, on any machine. */
export async function generateImage(spec: ImageSpec, outDir: string): Promise<GeneratedImage> {
  validateSpec(spec);
  const layers = Array.from({ length: spec.layers }, (_, i) => blob(syntheticLayer(layerSeed(spec, i), i)));
  const config = { architecture: 'amd64', os: 'linux', config: { Env: ['PATH=/bin'] } };
  return writeLayout(spec.name, { layers, config }, outDir);
}

export const BUSYBOX_REF = 'test/busybox:latest';
const BUSYBOX_BINARY = '/bin/busybox';

/** One layer with the static busybox from busybox-static, plus sleep and sh links; runs `sleep 3600`. */
export async function busyboxImage(outDir: string): Promise<GeneratedImage> {
  let binary: Buffer;
  try {
    binary = await readFile(BUSYBOX_BINARY);
  } catch (error) {
    throw new Error(`cannot read ${BUSYBOX_BINARY}: install the Debian package busybox-static`, {
      cause: error,
    });
  }
  const layer = createTar([
    { type: 'dir', name: 'bin' },
    { type: 'file', name: 'bin/busybox', content: binary, mode: 0o755 },
    { type: 'symlink', name: 'bin/sh', target: 'busybox' },
    { type: 'symlink', name: 'bin/sleep', target: 'busybox' },
    { type: 'dir', name: 'tmp', mode: 0o1777 },
  ]);
  const config = {
    architecture: 'amd64',
    os: 'linux',
    config: { Env: ['PATH=/bin'], Cmd: ['sleep', '3600'], WorkingDir: '/' },
  };
  return writeLayout(BUSYBOX_REF, { layers: [blob(layer)], config }, outDir);
}

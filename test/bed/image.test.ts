import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { busyboxImage, chainIdsOf, generateImage, sha256 } from './image.js';
import { readTar } from './tar.js';

let dir = '';
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'bed-image-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function blobsOf(tarPath: string): Promise<Map<string, Buffer>> {
  const blobs = new Map<string, Buffer>();
  for (const e of readTar(await readFile(tarPath))) if (e.type === 'file') blobs.set(e.name, e.content);
  return blobs;
}

test('chainIdsOf follows the OCI chain ID definition', () => {
  const diffs = ['sha256:aa', 'sha256:bb', 'sha256:cc'];
  const second = `sha256:${createHash('sha256').update('sha256:aa sha256:bb').digest('hex')}`;
  const third = `sha256:${createHash('sha256').update(`${second} sha256:cc`).digest('hex')}`;
  assert.deepEqual(chainIdsOf(diffs), ['sha256:aa', second, third]);
  assert.deepEqual(chainIdsOf([]), []);
});

test('same spec gives the same bytes and digests', async () => {
  const spec = { name: 'test/img-3:latest', layers: 3, seed: 's1' };
  const a = await generateImage(spec, path.join(dir, 'a'));
  const b = await generateImage(spec, path.join(dir, 'b'));
  assert.deepEqual(await readFile(a.tarPath), await readFile(b.tarPath));
  assert.deepEqual({ ...a, tarPath: '' }, { ...b, tarPath: '' });
  assert.equal(a.diffIds.length, 3);
  assert.equal(new Set(a.diffIds).size, 3, 'layers differ from each other');
  assert.deepEqual(a.chainIds, chainIdsOf(a.diffIds));
  const other = await generateImage({ ...spec, seed: 's2' }, path.join(dir, 'c'));
  assert.notDeepEqual(other.diffIds, a.diffIds);
});

test('the layout is a valid OCI image layout whose blobs match their digests', async () => {
  const image = await generateImage({ name: 'test/layout:v1', layers: 2, seed: 'x' }, dir);
  const blobs = await blobsOf(image.tarPath);
  assert.equal(blobs.get('oci-layout')?.toString(), '{"imageLayoutVersion":"1.0.0"}');
  const blobNames = [...blobs.keys()].filter((name) => name.startsWith('blobs/sha256/'));
  assert.equal(blobNames.length, 4, 'two layers, config, manifest');
  for (const name of blobNames) assert.equal(sha256(blobs.get(name) ?? ''), `sha256:${name.slice(13)}`);
  const index = JSON.parse(String(blobs.get('index.json')));
  assert.equal(index.manifests[0].digest, image.manifestDigest);
  assert.equal(index.manifests[0].annotations['org.opencontainers.image.ref.name'], 'test/layout:v1');
  const manifest = JSON.parse(String(blobs.get(`blobs/sha256/${image.manifestDigest.slice(7)}`)));
  assert.equal(manifest.config.digest, image.configDigest);
  assert.deepEqual(
    manifest.layers.map((l: { digest: string; mediaType: string }) => [l.digest, l.mediaType]),
    image.diffIds.map((d) => [d, 'application/vnd.oci.image.layer.v1.tar']),
  );
  const config = JSON.parse(String(blobs.get(`blobs/sha256/${image.configDigest.slice(7)}`)));
  assert.deepEqual(config.rootfs.diff_ids, image.diffIds);
  assert.equal(config.architecture, 'amd64');
  assert.equal(config.os, 'linux');
});

test('sharedLowerLayers makes the first layers identical across images, and only those', async () => {
  const shared = { seed: 'base', count: 2 };
  const a = await generateImage({ name: 'test/a:1', layers: 4, seed: 'a', sharedLowerLayers: shared }, dir);
  const b = await generateImage({ name: 'test/b:1', layers: 3, seed: 'b', sharedLowerLayers: shared }, dir);
  assert.deepEqual(a.chainIds.slice(0, 2), b.chainIds.slice(0, 2));
  assert.notEqual(a.diffIds[2], b.diffIds[2]);
  const plain = await generateImage({ name: 'test/c:1', layers: 2, seed: 'base' }, dir);
  assert.notEqual(plain.diffIds[0], a.diffIds[0], 'a shared seed does not collide with an own seed');
});

test('invalid specs are refused with the offending value', async () => {
  await assert.rejects(
    generateImage({ name: 'x', layers: 0, seed: 's' }, dir),
    /layers must be a positive integer, got 0/,
  );
  await assert.rejects(
    generateImage({ name: 'x', layers: 2, seed: 's', sharedLowerLayers: { seed: 'b', count: 3 } }, dir),
    /sharedLowerLayers.count must be between 0 and layers \(2\), got 3/,
  );
});

test('busybox image holds the static busybox and runs sleep 3600', async () => {
  const image = await busyboxImage(dir);
  const blobs = await blobsOf(image.tarPath);
  const layer = readTar(blobs.get(`blobs/sha256/${image.diffIds[0]?.slice(7)}`) ?? Buffer.alloc(0));
  const byName = new Map(layer.map((e) => [e.name, e]));
  assert.deepEqual(byName.get('bin/busybox')?.content, await readFile('/bin/busybox'));
  assert.equal(byName.get('bin/sleep')?.target, 'busybox');
  const config = JSON.parse(String(blobs.get(`blobs/sha256/${image.configDigest.slice(7)}`)));
  assert.deepEqual(config.config.Cmd, ['sleep', '3600']);
});

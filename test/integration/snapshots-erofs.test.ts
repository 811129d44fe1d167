/**
 * `snapshots doctor | clean | repair --snapshotter erofs` through the built CLI against a real containerd 2.1.9
 * whose erofs differ runs mkfs.erofs (erofs-utils 1.8.6): the inventory of a built-in snapshotter is its own
 * metadata.db under containerd's root, and the evidence rules are those of every other snapshotter. The split
 * brain is made the way a lost store makes it: the store's metadata.db put back to an older copy and the
 * snapshot directories made since removed (their layer files are immutable: `chattr -i` first; containerd's
 * erofs snapshotter itself cannot reuse a directory whose immutable layer file is left behind).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMetaDb } from '../../src/containerd/metadb/index.js';
import { clearImmutable, generateImage, startBed, type Bed, type GeneratedImage } from '../bed/index.js';
import { runCli } from '../support/cli.js';

interface JsonOut {
  [key: string]: unknown;
}

const erofsRecords = async (bed: Bed): Promise<number> =>
  (await readMetaDb(bed.metaDbPath)).namespaces.reduce(
    (sum, n) => sum + (n.snapshotters.get('erofs')?.snapshots.size ?? 0),
    0,
  );

describe('snapshots doctor, clean and repair on containerd 2.1 with its erofs snapshotter', () => {
  let bed: Bed;
  let dir: string;
  let app: GeneratedImage;
  let other: GeneratedImage;
  const cli = async (args: string[]) => {
    const r = await runCli([...args, '--containerd-socket', bed.socket, '--json']);
    return { code: r.code, json: JSON.parse(r.stdout || '{}') as JsonOut, stderr: r.stderr };
  };
  const store = () => join(bed.containerdRoot, 'io.containerd.snapshotter.v1.erofs');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kd-erofs-'));
    bed = await startBed({ version: '2.1', nydus: false, erofs: true });
    app = await generateImage({ name: 'test/erofs-app:v1', layers: 3, seed: 'erofs-app' }, dir);
    other = await generateImage({ name: 'test/erofs-other:v1', layers: 2, seed: 'erofs-other' }, dir);
  });
  after(async () => {
    await bed?.teardown();
    await rm(dir, { recursive: true, force: true });
  });

  test('layers are unpacked as erofs images by mkfs.erofs, and a runc container runs on them', async () => {
    await bed.importImage(app);
    const layers = [];
    for (const id of await readdir(join(store(), 'snapshots')))
      if (existsSync(join(store(), 'snapshots', id, 'layer.erofs'))) layers.push(id);
    assert.equal(layers.length, 3, 'one layer.erofs per layer');
    await bed.runContainer('c1');
    const mounts = (await import('node:fs')).readFileSync('/proc/self/mountinfo', 'utf8');
    assert.match(mounts, new RegExp(`${store()}/snapshots/\\d+/fs .* - erofs `), 'a layer mounted as erofs');
    assert.equal(await erofsRecords(bed), 3 + 1 + 1, 'app (3), busybox (1), c1 (1)');
  });

  test('doctor reads the store from its metadata.db under containerd root: healthy', async () => {
    const r = await cli(['snapshots', 'doctor', '--snapshotter', 'erofs']);
    assert.equal(r.code, 0, JSON.stringify(r.json));
    assert.equal(r.json['healthy'], true);
    const backend = r.json['backend'] as { known: boolean; source: string; snapshots: number };
    assert.match(backend.source, /io\.containerd\.snapshotter\.v1\.erofs\/metadata\.db \(read from disk\)/);
    assert.equal(backend.snapshots, await erofsRecords(bed));
  });

  test('a store put back to an older metadata.db: stale records and a broken image; repair drops them', async () => {
    await bed.stopContainerd();
    await copyFile(join(store(), 'metadata.db'), join(dir, 'erofs-metadata.db'));
    const before = new Set(await readdir(join(store(), 'snapshots')));
    await bed.startContainerd();
    await bed.importImage(other);
    await bed.stopContainerd();
    // The store loses what came after the copy, its metadata and its data (immutable layer files included).
    await copyFile(join(dir, 'erofs-metadata.db'), join(store(), 'metadata.db'));
    for (const id of await readdir(join(store(), 'snapshots'))) {
      if (before.has(id)) continue;
      // Committed layers stay mounted at <id>/fs after containerd stops.
      spawnSync('umount', [join(store(), 'snapshots', id, 'fs')], { stdio: 'ignore' });
      clearImmutable(join(store(), 'snapshots', id));
      await rm(join(store(), 'snapshots', id), { recursive: true });
    }
    await bed.startContainerd();

    const doctor = await cli(['snapshots', 'doctor', '--snapshotter', 'erofs']);
    assert.equal(doctor.code, 1);
    assert.equal(doctor.json['healthy'], false);
    assert.equal((doctor.json['staleRecords'] as unknown[]).length, 2);
    assert.deepEqual(
      (doctor.json['brokenImages'] as { name: string }[]).map((b) => b.name),
      ['test/erofs-other:v1'],
    );
    const broken = await bed.ctr(['images', 'import', '--local', '--snapshotter', 'erofs', other.tarPath], {
      allowFail: true,
    });
    assert.notEqual(broken.code, 0, 'the next import of the broken image fails');

    const repair = await cli(['snapshots', 'repair', '--snapshotter', 'erofs', '--drop-images']);
    assert.equal(repair.code, 0, JSON.stringify(repair.json));
    assert.equal(repair.json['repaired'], true);
    await bed.importImage(other);
    const after = await cli(['snapshots', 'doctor', '--snapshotter', 'erofs']);
    assert.equal(after.json['healthy'], true, JSON.stringify(after.json));
  });

  test('clean removes what no workload needs and names the running container that keeps the rest', async () => {
    const r = await cli(['snapshots', 'clean', '--snapshotter', 'erofs']);
    assert.equal(r.code, 1, JSON.stringify(r.json));
    assert.equal(r.json['clean'], false);
    const reasons = (r.json['reasons'] as string[]).join('\n');
    assert.match(reasons, /c1/);
    assert.match(reasons, /RUNNING/);
    assert.equal(await erofsRecords(bed), 2, "only c1's snapshot and its parent are left");
    const tasks = await bed.ctr(['tasks', 'ls']);
    assert.match(tasks.stdout, /c1\s+\d+\s+RUNNING/);
    const doctor = await cli(['snapshots', 'doctor', '--snapshotter', 'erofs']);
    assert.equal(doctor.json['healthy'], true, JSON.stringify(doctor.json));
  });
});

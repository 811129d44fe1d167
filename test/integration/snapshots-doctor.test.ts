/**
 * The split-brain doctor and its repair against real containerd 1.6 and 2.1 with the real nydus-snapshotter:
 * wipe the snapshotter's data the way upstream once did, watch the next import or pull fail, find exactly the
 * stale records, repair, and import or pull again.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContainerdClient } from '../../src/containerd/api/index.js';
import { readMetaDb } from '../../src/containerd/metadb/index.js';
import { readBackendInventory } from '../../src/snapshots/backend.js';
import { listBackendKeys } from '../../src/containerd/snapshotter-liveness.js';
import { diagnose } from '../../src/snapshots/doctor.js';
import { repairSnapshots } from '../../src/snapshots/repair.js';
import {
  generateImage,
  startBed,
  startRegistry,
  waitForSnapshotter,
  type Bed,
  type ContainerdVersion,
  type GeneratedImage,
  type Registry,
} from '../bed/index.js';

const NS = 'k8s.io';

for (const version of ['1.6', '2.1'] as ContainerdVersion[]) {
  describe(`snapshots doctor and repair on containerd ${version} with nydus-snapshotter`, () => {
    let bed: Bed;
    let client: ContainerdClient;
    let registry: Registry;
    const dir = mkdtempSync(join(tmpdir(), 'kd-doctor-'));
    const images: GeneratedImage[] = [];

    const backend = () =>
      readBackendInventory({
        address: { path: bed.nydus!.socket, how: "the bed's nydus socket" },
        root: { path: bed.nydus!.dataDir, how: "the bed's nydus data dir" },
      });
    const doctor = async () => diagnose(await readMetaDb(bed.metaDbPath), 'nydus', await backend());
    const repair = (extra: { dropImages?: boolean } = {}) =>
      repairSnapshots(client, {
        snapshotter: 'nydus',
        metaDbPath: bed.metaDbPath,
        readBackend: backend,
        ...extra,
      });
    const wipeNydus = async (restart: boolean) => {
      await bed.nydus?.stop();
      await bed.nydus?.wipe();
      if (restart) {
        await bed.nydus?.start();
        // Before anything writes to it, a fresh nydus answers its listing with "bucket does not exist".
        assert.deepEqual(await listBackendKeys(bed.nydus?.socket ?? '', 5_000), new Set());
        await waitForSnapshotter(bed, 'nydus', 30_000, { namespace: NS });
      }
    };

    before(async () => {
      bed = await startBed({ version });
      client = await ContainerdClient.connect({ socket: bed.socket });
      registry = await startRegistry({ root: join(dir, 'registry') });
      images.push(
        await generateImage(
          {
            name: 'test/doctor-a:v1',
            layers: 4,
            seed: 'doctor-a',
            sharedLowerLayers: { seed: 'doc', count: 2 },
          },
          dir,
        ),
      );
      images.push(
        await generateImage(
          {
            name: 'test/doctor-b:v1',
            layers: 3,
            seed: 'doctor-b',
            sharedLowerLayers: { seed: 'doc', count: 2 },
          },
          dir,
        ),
      );
    });
    after(async () => {
      client?.close();
      await registry?.stop();
      await bed?.teardown();
      rmSync(dir, { recursive: true, force: true });
    });

    test('a healthy snapshotter is healthy', async () => {
      for (const image of images) await bed.importImage(image, { namespace: NS });
      const report = await doctor();
      assert.equal(report.healthy, true, JSON.stringify(report, null, 1));
      assert.equal(report.records, new Set(images.flatMap((i) => i.chainIds)).size);
    });

    test('wiped data dir: import fails, doctor lists exactly the stale records, repair, import succeeds', async () => {
      await wipeNydus(true);
      const created = [...new Set(images.flatMap((i) => i.chainIds))].sort();
      const failed = await bed.ctr(
        [
          'images',
          'import',
          '--snapshotter',
          'nydus',
          ...(version === '1.6' ? [] : ['--local']),
          images[0]!.tarPath,
        ],
        {
          namespace: NS,
          allowFail: true,
        },
      );
      assert.notEqual(failed.code, 0, 'the import must fail on stale records');
      assert.match(failed.stderr, /already exists|missing parent|not found/);

      const report = await doctor();
      assert.equal(report.healthy, false);
      assert.deepEqual(report.staleRecords.map((s) => s.key).sort(), created);
      assert.deepEqual(report.brokenImages.map((b) => b.name).sort(), [
        'test/doctor-a:v1',
        'test/doctor-b:v1',
      ]);
      const top = report.staleRecords.find((s) => s.key === images[0]!.chainIds.at(-1));
      assert.deepEqual(top?.heldBy, [{ kind: 'image', name: 'test/doctor-a:v1' }]);

      const result = await repair();
      assert.equal(result.repaired, true, JSON.stringify(result.after, null, 1));
      assert.equal(result.after?.records, 0);
      await bed.importImage(images[0]!, { namespace: NS });
      assert.equal((await doctor()).healthy, true);
    });

    test('repair while nydus-snapshotter is stopped, then start it: the pull succeeds', async () => {
      const ref = await registry.push(images[1]!, 'doctor/b:v1');
      await bed.pull(ref, { namespace: NS });
      await wipeNydus(false);
      const report = await doctor();
      assert.equal(report.backend.known, true, 'an empty data dir at a known root is a wiped store: nothing');
      assert.ok(report.staleRecords.length > 0);
      const result = await repair();
      assert.equal(result.repaired, true);
      await bed.nydus?.start();
      await waitForSnapshotter(bed, 'nydus', 30_000, { namespace: NS });
      await bed.pull(ref, { namespace: NS });
      assert.equal((await doctor()).healthy, true);
    });

    test('a dangling child link is reported with a concrete remedy, and repair clears it', async () => {
      const image = images[0]!;
      const topKey = image.chainIds.at(-1) as string;
      await bed.importImage(image, { namespace: NS });
      await client.snapshots.prepare(NS, 'nydus', 'doomed-child', topKey);
      // Nothing holds the child; containerd's GC deletes it without unlinking it from the image's top layer.
      const { collectGarbage } = await import('../../src/snapshots/apply.js');
      await collectGarbage(client, NS);
      const report = await doctor();
      const link = report.danglingLinks.find((d) => d.key === topKey);
      assert.deepEqual(link?.missingChildren, ['doomed-child']);
      assert.match(link?.remedy ?? '', /snapshots repair/);
      await assert.rejects(client.snapshots.remove(NS, 'nydus', topKey), /cannot remove snapshot with child/);

      const result = await repair();
      assert.equal(result.linksCleared, 1);
      assert.equal(result.repaired, true);
      assert.deepEqual((await doctor()).danglingLinks, []);
      assert.ok((await client.snapshots.stat(NS, 'nydus', topKey)).name, 'the healthy record stays');
    });
  });
}

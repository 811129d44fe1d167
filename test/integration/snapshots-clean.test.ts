/**
 * The cleanup engine against real containerd 1.6 and 2.1 with the real nydus-snapshotter (issue: snapshot
 * cleanup engine). Each version gets one bed and walks through the scenarios in order.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ContainerdClient, NotFoundError } from '../../src/containerd/api/index.js';
import { cleanSnapshots } from '../../src/snapshots/clean.js';
import { metaRecordReader } from '../../src/snapshots/metadb-source.js';
import type { CleanResult } from '../../src/snapshots/types.js';
import {
  busyboxImage,
  startBed,
  type Bed,
  type ContainerdVersion,
  type GeneratedImage,
} from '../bed/index.js';
import { forestKeys, generateForest, importForest } from '../support/forest.js';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '../../bin/kata-deploy.js');
const NS = 'k8s.io';

async function assertAllGone(client: ContainerdClient, keys: string[]): Promise<void> {
  assert.deepEqual(await client.snapshots.list(NS, 'nydus'), []);
  for (const key of keys) {
    await assert.rejects(client.snapshots.stat(NS, 'nydus', key), NotFoundError, `${key} should be gone`);
  }
}

for (const version of ['1.6', '2.1'] as ContainerdVersion[]) {
  describe(`snapshots clean on containerd ${version} with nydus-snapshotter`, () => {
    let bed: Bed;
    let client: ContainerdClient;
    let forest: GeneratedImage[];
    let busybox: GeneratedImage;
    const dir = mkdtempSync(join(tmpdir(), 'kd-forest-'));
    const clean = (extra: Partial<Parameters<typeof cleanSnapshots>[1]> = {}): Promise<CleanResult> =>
      cleanSnapshots(client, {
        snapshotter: 'nydus',
        readMeta: metaRecordReader(bed.metaDbPath, 'nydus'),
        ...extra,
      });

    before(async () => {
      bed = await startBed({ version });
      client = await ContainerdClient.connect({ socket: bed.socket });
      forest = await generateForest({ images: 20, layers: 8 }, dir);
      busybox = await busyboxImage(dir);
    });
    after(async () => {
      client?.close();
      await bed?.teardown();
      rmSync(dir, { recursive: true, force: true });
    });

    test('20 images x 8 layers in a branching forest plus stopped containers: clean, nothing left', async () => {
      await importForest(bed, forest, { namespace: NS });
      for (const id of ['stopped-a', 'stopped-b', 'stopped-c']) {
        await bed.createContainer(id, forest[Number(id.length) % forest.length] as GeneratedImage, {
          namespace: NS,
        });
      }
      const keys = forestKeys(forest);
      assert.ok((await client.snapshots.list(NS, 'nydus')).length >= keys.length);

      const result = await clean();
      assert.equal(result.clean, true, result.reasons.join('\n'));
      const ns = result.namespaces.find((n) => n.namespace === NS);
      assert.deepEqual(ns?.containersRemoved.sort(), ['stopped-a', 'stopped-b', 'stopped-c']);
      assert.ok((ns?.snapshotsRemoved ?? 0) + (ns?.sweptByGc ?? 0) >= keys.length);
      assert.deepEqual(await client.containers.list(NS), []);
      await assertAllGone(client, [...keys, 'stopped-a', 'stopped-b', 'stopped-c']);
    });

    test('a second run right after a clean run is a no-op that reports clean', async () => {
      const result = await clean();
      assert.equal(result.clean, true);
      assert.equal(result.rounds, 0);
      assert.ok(result.namespaces.every((n) => n.snapshotsRemoved === 0 && n.containersRemoved.length === 0));
    });

    test('a running busybox container keeps its task and chain; everything else goes; clean: false', async () => {
      await importForest(bed, forest, { namespace: NS });
      await bed.runContainer('busy', { namespace: NS, image: busybox });
      const result = await clean();
      assert.equal(result.clean, false);
      const ns = result.namespaces.find((n) => n.namespace === NS);
      assert.deepEqual(
        ns?.keptContainers.map((c) => [c.id, c.taskStatus]),
        [['busy', 'RUNNING']],
      );
      const remaining = new Map(ns?.remaining.map((r) => [r.key, r.reason]));
      assert.deepEqual(remaining.get('busy'), { kind: 'in-use', container: 'busy', taskStatus: 'RUNNING' });
      for (const chainId of busybox.chainIds)
        assert.equal(remaining.get(chainId)?.kind, 'parent-of-remaining');
      assert.ok(result.reasons.some((r) => r.includes('used by container busy (task RUNNING)')));

      const task = await client.tasks.get(NS, 'busy');
      assert.equal(task.status, 'RUNNING');
      assert.ok(existsSync(`/proc/${task.pid}/root/bin/busybox`), 'the running rootfs is still readable');
      const left = (await client.snapshots.list(NS, 'nydus')).map((s) => s.name).sort();
      assert.deepEqual(left, ['busy', ...busybox.chainIds].sort());
      await assertAllGone(client, forestKeys(forest)).catch(() => {
        /* the listing holds busybox's chain; check the forest keys one by one below */
      });
      for (const key of forestKeys(forest)) {
        await assert.rejects(client.snapshots.stat(NS, 'nydus', key), NotFoundError);
      }
    });

    test('nydus-snapshotter stopped: unknown, nothing claimed removed, exit 1', async () => {
      await importForest(bed, forest.slice(0, 3), { namespace: NS });
      await bed.nydus?.stop();
      try {
        const cli = await run(
          process.execPath,
          [CLI, 'snapshots', 'clean', '--snapshotter', 'nydus', '--containerd-socket', bed.socket, '--json'],
          {
            encoding: 'utf8',
          },
        ).catch((error: { code: number; stdout: string }) => error);
        assert.equal('code' in cli ? cli.code : 0, 1);
        const result = JSON.parse(cli.stdout) as CleanResult;
        assert.equal(result.clean, 'unknown');
        assert.equal(result.rounds, 0);
        assert.ok(
          result.namespaces.every(
            (n) => n.snapshotsRemoved === 0 && n.sweptByGc === 0 && n.containersRemoved.length === 0,
          ),
        );
        assert.ok(
          result.missing.some((r) =>
            /namespace k8s\.io failed: listing its containers, tasks and snapshots failed/.test(r),
          ),
          result.reasons.join('\n'),
        );
      } finally {
        await bed.nydus?.start();
      }
    });
  });
}

/**
 * The readiness probe kata-deploy runs after (re)starting a proxy snapshotter, against real containerd with
 * the real nydus-snapshotter: it must see the backend answer and leave no trace on the node.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ContainerdClient } from '../../src/containerd/api/index.js';
import type { Host } from '../../src/host/index.js';
import { READY_PROBE_PREFIX, waitSnapshotterReachable } from '../../src/lifecycle/snapshotters/ready.js';
import type { Names } from '../../src/names/index.js';
import { silentLogger } from '../../src/output/log.js';
import { collectGarbage } from '../../src/snapshots/apply.js';
import { startBed, type Bed } from '../bed/index.js';

describe('snapshotter readiness probe on containerd 1.6 with nydus-snapshotter', () => {
  let bed: Bed;
  let client: ContainerdClient;
  const probeContext = () => ({
    // The bed's paths are already this machine's paths: no host root to map them under.
    host: { path: (p: string) => p } as unknown as Host,
    names: { containerd: { socket: bed.socket } } as unknown as Names,
    log: silentLogger,
  });

  before(async () => {
    bed = await startBed({ version: '1.6' });
    client = await ContainerdClient.connect({ socket: bed.socket });
  });
  after(async () => {
    client?.close();
    await bed?.teardown();
  });

  test('on a containerd without namespaces it answers and creates none', async () => {
    // The bed's own start-up probe used `default`; an empty namespace can be deleted.
    for (const ns of await client.namespaces.list()) await client.namespaces.delete(ns.name);
    assert.deepEqual(await client.namespaces.list(), []);

    await waitSnapshotterReachable(probeContext(), 'nydus', 20_000);

    assert.deepEqual(await client.namespaces.list(), []);
  });

  test('in an existing namespace it leaves no probe snapshot behind, and the namespace stays', async () => {
    // Held by a gc.root label: the probe's Remove may start a GC, which sweeps unreferenced snapshots.
    await client.snapshots.prepare('k8s.io', 'nydus', 'kept-by-the-test', '', {
      'containerd.io/gc.root': 'kata-deploy-test',
    });
    await waitSnapshotterReachable(probeContext(), 'nydus', 20_000);
    // Whatever the probe's Remove scheduled has run: the listing below sees the settled state.
    await collectGarbage(client, 'k8s.io');

    assert.deepEqual(
      (await client.namespaces.list()).map((n) => n.name),
      ['k8s.io'],
    );
    const keys = (await client.snapshots.list('k8s.io', 'nydus')).map((s) => s.name);
    assert.deepEqual(keys, ['kept-by-the-test']);
    assert.ok(!keys.some((k) => k.startsWith(READY_PROBE_PREFIX)));
  });
});

// The test bed itself, against real containerd 1.6, 1.7 and 2.1 with the real nydus-snapshotter.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  ALL_VERSIONS,
  generateImage,
  mountsUnder,
  parseMountinfo,
  pidAlive,
  pidsMentioning,
  startBed,
  startRegistry,
  waitForSnapshotter,
  withBed,
  type Bed,
  type Registry,
} from '../bed/index.js';

/** Where the runc shim of namespace/id listens (outside the bed: the shim fixes that path). */
function shimSocket(bed: Bed, task: string): string {
  return `/run/containerd/s/${createHash('sha256').update(`${bed.socket}/${task}`).digest('hex')}`;
}

function rows(stdout: string): string[][] {
  return stdout
    .trim()
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((line) => line.trim().split(/\s+/));
}

async function nydusSnapshots(bed: Bed, namespace = 'default'): Promise<{ key: string; kind: string }[]> {
  const out = await bed.ctr(['snapshots', '--snapshotter', 'nydus', 'ls'], { namespace });
  return rows(out.stdout).map((r) => ({ key: r[0] ?? '', kind: r[r.length - 1] ?? '' }));
}

/** Cgroup directories named after the bed (kata-bed-<root basename>-…) in any hierarchy. */
async function bedCgroups(root: string): Promise<string[]> {
  const hierarchies = parseMountinfo(await readFile('/proc/self/mountinfo', 'utf8')).filter((m) =>
    m.fsType.startsWith('cgroup'),
  );
  assert.ok(hierarchies.length > 0, 'cgroups are mounted');
  const found: string[] = [];
  for (const h of hierarchies) {
    for (const name of await readdir(h.mountPoint)) {
      if (name.startsWith(`kata-bed-${path.basename(root)}-`)) found.push(path.join(h.mountPoint, name));
    }
  }
  return found;
}

let scratch = '';
let registry: Registry;
let pullRef = '';
let pullChainIds: string[] = [];

before(async () => {
  scratch = await mkdtemp('/tmp/kd-test-');
  registry = await startRegistry({ root: path.join(scratch, 'registry') });
  const image = await generateImage(
    { name: 'test/pulled:1', layers: 2, seed: 'pull' },
    path.join(scratch, 'img'),
  );
  pullRef = await registry.push(image, 'bed/pulled:v1');
  pullChainIds = image.chainIds;
});

after(async () => {
  await registry?.stop();
  await rm(scratch, { recursive: true, force: true });
});

for (const version of ALL_VERSIONS) {
  describe(`test bed on containerd ${version}`, () => {
    let bed: Bed;
    before(async () => {
      bed = await startBed({ version });
    });
    after(async () => {
      await bed?.teardown();
    });

    test('runs the requested containerd with nydus as proxy plugin', async () => {
      const out = await bed.ctr(['version']);
      assert.match(out.stdout, new RegExp(`Server:\\s+Version:\\s+v?${version.replace('.', '\\.')}\\.`));
      const plugins = await bed.ctr(['plugins', 'ls']);
      assert.match(plugins.stdout, /io\.containerd\.snapshotter\.v1\s+nydus\s+.*\bok\b/);
      assert.doesNotMatch(
        plugins.stdout,
        /io\.containerd\.grpc\.v1\s+cri\s+.*\bok\b/,
        'CRI is off by default',
      );
      assert.ok(bed.socket.length < 100, `socket path ${bed.socket} is short enough`);
    });

    test('imports a 3-layer image into nydus as three committed snapshots keyed by chain ID', async () => {
      const image = await generateImage({ name: 'test/img-3:latest', layers: 3, seed: version }, bed.root);
      await bed.importImage(image);
      const snapshots = await nydusSnapshots(bed);
      assert.deepEqual(snapshots.map((s) => s.key).sort(), [...image.chainIds].sort());
      assert.ok(snapshots.every((s) => s.kind === 'Committed'));
      assert.ok(existsSync(bed.metaDbPath), 'meta.db is where the bed says');
    });

    test('pulls from the local registry into nydus', async () => {
      await bed.pull(pullRef, { namespace: 'pulled' });
      const keys = (await nydusSnapshots(bed, 'pulled')).map((s) => s.key).sort();
      assert.deepEqual(keys, [...pullChainIds].sort());
    });

    test('runs a busybox container with a RUNNING task that survives a containerd restart', async () => {
      await bed.runContainer('c1');
      const running = async (): Promise<string | undefined> => {
        const tasks = rows((await bed.ctr(['tasks', 'ls'])).stdout);
        return tasks.find((r) => r[0] === 'c1')?.[2];
      };
      assert.equal(await running(), 'RUNNING');
      const rootfs = (await mountsUnder(bed.containerdState)).filter((m) =>
        m.mountPoint.endsWith('/c1/rootfs'),
      );
      assert.equal(rootfs.length, 1, 'the container rootfs is mounted inside the bed');
      assert.ok((await bedCgroups(bed.root)).length > 0, "the container runs in the bed's own cgroup");
      assert.ok(existsSync(shimSocket(bed, 'default/c1')), 'the shim socket is where teardown will look');
      await bed.stopContainerd();
      await bed.startContainerd();
      assert.equal(await running(), 'RUNNING');
    });

    test('nydus can be stopped, wiped and restarted; its stale records are then hidden', async () => {
      const nydus = bed.nydus;
      assert.ok(nydus);
      await bed.createContainer(
        'c2',
        await generateImage({ name: 'test/c2:1', layers: 1, seed: 'c2' }, bed.root),
      );
      await nydus.stop();
      assert.equal(nydus.running(), false);
      const down = await bed.ctr(['snapshots', '--snapshotter', 'nydus', 'ls'], { allowFail: true });
      assert.notEqual(down.code, 0, 'listing fails while the snapshotter is down');
      await nydus.wipe();
      assert.deepEqual(await readdir(nydus.dataDir), []);
      await nydus.start();
      assert.equal(nydus.running(), true);
      await waitForSnapshotter(bed, 'nydus', 30_000);
      assert.deepEqual(await nydusSnapshots(bed), []);
    });

    test('teardown leaves no process, mount, cgroup or file behind, and can be repeated', async () => {
      const pids = bed.processes().map((p) => p.pid);
      assert.ok(
        pids.length >= 4,
        `containerd, nydus, shim and task are tracked: ${JSON.stringify(bed.processes())}`,
      );
      const { root, socket } = bed;
      const shim = shimSocket(bed, 'default/c1');
      await bed.teardown();
      await bed.teardown();
      assert.deepEqual(
        pids.filter((pid) => pidAlive(pid)),
        [],
      );
      assert.deepEqual(pidsMentioning(root), []);
      assert.deepEqual(pidsMentioning(socket), []);
      assert.deepEqual(await mountsUnder(root), []);
      assert.equal(existsSync(root), false);
      assert.equal(existsSync(shim), false);
      assert.deepEqual(await bedCgroups(root), []);
    });
  });
}

test('withBed tears the bed down when the body throws, and rethrows', async () => {
  let root = '';
  await assert.rejects(
    withBed({ version: '1.6', nydus: false }, async (bed) => {
      root = bed.root;
      assert.equal(bed.nydus, undefined);
      throw new Error('body failed');
    }),
    /body failed/,
  );
  assert.ok(root);
  assert.equal(existsSync(root), false);
});

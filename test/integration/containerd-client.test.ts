/**
 * The typed containerd client against real containerd 1.6, 1.7 and 2.1 with the real nydus-snapshotter as
 * proxy plugin `nydus`, and `kata-deploy containerd info` against the same bed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  ContainerdClient,
  InvalidArgumentError,
  NotFoundError,
  UnavailableError,
  UnimplementedError,
  type ContainerdError,
} from '../../src/containerd/api/index.js';
import type { ContainerdInfo } from '../../src/containerd/info.js';
import {
  ALL_VERSIONS,
  busyboxImage,
  generateImage,
  startBed,
  waitForSnapshotter,
  type Bed,
  type GeneratedImage,
} from '../bed/index.js';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '../../bin/kata-deploy.js');
const NS = 'default';

for (const version of ALL_VERSIONS) {
  describe(`containerd ${version} client with nydus-snapshotter`, () => {
    let bed: Bed;
    let client: ContainerdClient;
    let image: GeneratedImage;
    const dir = mkdtempSync(join(tmpdir(), 'kd-client-'));

    before(async () => {
      bed = await startBed({ version });
      client = await ContainerdClient.connect({ socket: bed.socket, timeoutMs: 3000 });
      image = await generateImage({ name: 'test/five:v1', layers: 5, seed: 'five' }, dir);
    });
    after(async () => {
      client?.close();
      await bed?.teardown();
      rmSync(dir, { recursive: true, force: true });
    });

    test('a 5-layer image imported into nydus: its chain listed and stat-ed with the right parents', async () => {
      await bed.importImage(image, { namespace: NS });
      const listed = await client.snapshots.list(NS, 'nydus');
      const byName = new Map(listed.map((s) => [s.name, s]));
      assert.equal(listed.length, 5);
      for (const [i, chainId] of image.chainIds.entries()) {
        const info = await client.snapshots.stat(NS, 'nydus', chainId);
        assert.equal(info.kind, 'COMMITTED');
        assert.equal(info.parent, i === 0 ? '' : image.chainIds[i - 1]);
        assert.equal(byName.get(chainId)?.parent, info.parent);
        assert.ok(info.createdAt instanceof Date);
      }
      const [img] = await client.images.list(NS);
      assert.equal(img?.name, image.ref);
      assert.equal(
        img?.target?.digest,
        image.manifestDigest.startsWith('sha256:') ? img?.target?.digest : '',
      );
      const config = await client.content.info(NS, image.configDigest);
      assert.equal(config.labels['containerd.io/gc.ref.snapshot.nydus'], image.chainIds.at(-1));
    });

    test('a running busybox container is RUNNING in Tasks.List', async () => {
      await bed.runContainer('busy', { namespace: NS, image: await busyboxImage(dir) });
      const tasks = await client.tasks.list(NS);
      const task = tasks.find((t) => t.containerId === 'busy');
      assert.equal(task?.status, 'RUNNING');
      assert.ok((task?.pid ?? 0) > 0);
      const container = await client.containers.get(NS, 'busy');
      assert.equal(container.snapshotter, 'nydus');
      assert.equal(container.snapshotKey, 'busy');
    });

    test('typed errors: missing key, unknown snapshotter, stopped snapshotter within the deadline', async () => {
      await assert.rejects(client.snapshots.stat(NS, 'nydus', 'no-such-key'), (e: ContainerdError) => {
        assert.ok(e instanceof NotFoundError);
        assert.match(e.message, /not found/);
        return true;
      });
      await assert.rejects(client.snapshots.stat(NS, 'no-such-snapshotter', 'x'), InvalidArgumentError);
      await bed.nydus?.stop();
      try {
        const started = Date.now();
        await assert.rejects(
          client.snapshots.stat(NS, 'nydus', image.chainIds[0] as string),
          UnavailableError,
        );
        await assert.rejects(client.snapshots.list(NS, 'nydus'), UnavailableError);
        assert.ok(Date.now() - started < 2 * 3000, 'answered within the deadlines');
      } finally {
        await bed.nydus?.start();
        await waitForSnapshotter(bed, 'nydus', 30_000, { namespace: NS });
      }
    });

    test('kata-deploy containerd info --json describes the bed', async () => {
      const { stdout } = await run(process.execPath, [
        CLI,
        'containerd',
        'info',
        '--containerd-socket',
        bed.socket,
        '--json',
      ]);
      const info = JSON.parse(stdout) as ContainerdInfo;
      assert.match(info.version, new RegExp(`^v?${version.replace('.', '\\.')}`));
      const nydus = info.snapshotters.find((s) => s.id === 'nydus');
      assert.equal(nydus?.proxy, true);
      assert.equal(nydus?.answers, true);
      assert.equal(nydus?.address, bed.nydus?.socket);
      const ns = info.namespaces.find((n) => n.name === NS);
      assert.equal(ns?.images, 2);
      assert.equal(ns?.runningTasks, 1);
      assert.equal(ns?.snapshots['nydus'], 5 + 2);
    });

    test("CRI's status where the CRI plugin is disabled: UnimplementedError, within the deadline", async () => {
      const started = Date.now();
      await assert.rejects(client.cri.status({ timeoutMs: 3000 }), UnimplementedError);
      assert.ok(Date.now() - started < 3000);
    });

    test('a socket that does not exist, or is not containerd: one line naming it, exit 2', async () => {
      for (const socket of [join(dir, 'absent.sock'), `${bed.socket}.ttrpc`]) {
        const failure = await run(process.execPath, [
          CLI,
          'containerd',
          'info',
          '--containerd-socket',
          socket,
        ]).catch((e: { code: number; stderr: string }) => e);
        assert.equal('code' in failure ? failure.code : 0, 2);
        const stderr = 'stderr' in failure ? failure.stderr : '';
        assert.equal(stderr.trim().split('\n').length, 1, stderr);
        assert.ok(stderr.includes(socket));
      }
    });
  });
}

describe('kata-deploy containerd info against a gRPC server that answers every call OK with garbage', () => {
  test('is not taken for containerd: one line naming the socket, exit 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kd-garbage-'));
    const server = new grpc.Server();
    const garbage = Buffer.from([0x4a, 0x03, 0x61, 0x62, 0x63]);
    for (const path of [
      '/containerd.services.version.v1.Version/Version',
      '/containerd.services.introspection.v1.Introspection/Server',
      '/containerd.services.introspection.v1.Introspection/Plugins',
      '/containerd.services.namespaces.v1.Namespaces/List',
    ]) {
      server.register(
        path,
        (_call: unknown, callback: grpc.sendUnaryData<Buffer>) => callback(null, garbage),
        (b: Buffer) => b,
        (b: Buffer) => b,
        'unary',
      );
    }
    const socket = join(dir, 'garbage.sock');
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (e) =>
        e ? reject(e) : resolve(),
      ),
    );
    try {
      const failure = await run(process.execPath, [
        CLI,
        'containerd',
        'info',
        '--containerd-socket',
        socket,
      ]).catch((e: { code: number; stderr: string }) => e);
      assert.equal('code' in failure ? failure.code : 0, 2);
      const stderr = 'stderr' in failure ? failure.stderr : '';
      assert.match(stderr, /something answers there, but not as containerd \(an empty version\)/);
      assert.equal(stderr.trim().split('\n').length, 1, stderr);
    } finally {
      server.forceShutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

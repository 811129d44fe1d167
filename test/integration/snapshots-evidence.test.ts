/**
 * Safety verdicts on positive evidence, through the built CLI against real containerd with the real
 * nydus-snapshotter: the four commands that gave the promise away on 03de115 (an unknown snapshotter called
 * clean, a namespace subset called clean while another namespace held records, repair removing healthy
 * records against a data directory that does not exist, doctor with containerd stopped reading a guessed
 * store instead of the proxy plugin's socket).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMetaDb } from '../../src/containerd/metadb/index.js';
import {
  generateImage,
  startBed,
  waitForSnapshotter,
  type Bed,
  type ContainerdVersion,
  type GeneratedImage,
} from '../bed/index.js';
import { runCli } from '../support/cli.js';

interface JsonOut {
  [key: string]: unknown;
}

const records = async (bed: Bed, ns?: string): Promise<number> =>
  (await readMetaDb(bed.metaDbPath)).namespaces
    .filter((n) => ns === undefined || n.name === ns)
    .reduce((sum, n) => sum + (n.snapshotters.get('nydus')?.snapshots.size ?? 0), 0);

for (const version of ['2.1', '1.6'] as ContainerdVersion[]) {
  describe(`verdicts on positive evidence, containerd ${version} with nydus-snapshotter`, () => {
    let bed: Bed;
    let image: GeneratedImage;
    const dir = mkdtempSync(join(tmpdir(), 'kd-evidence-'));
    const cli = async (args: string[]) => {
      const r = await runCli([...args, '--containerd-socket', bed.socket, '--json']);
      return { code: r.code, json: JSON.parse(r.stdout || '{}') as JsonOut, stderr: r.stderr };
    };

    before(async () => {
      bed = await startBed({ version });
      image = await generateImage({ name: 'test/evidence:v1', layers: 3, seed: `evidence-${version}` }, dir);
      await bed.importImage(image, { namespace: 'default' });
    });
    after(async () => {
      await bed?.teardown();
      rmSync(dir, { recursive: true, force: true });
    });

    test('an unknown snapshotter is a usage error that lists the loaded ones; nothing removed', async () => {
      const before = await records(bed);
      const r = await cli(['snapshots', 'clean', '--snapshotter', 'nydsu']);
      assert.equal(r.code, 2, r.stderr);
      const error = r.json['error'] as { kind: string; message: string; input: string };
      assert.equal(error.kind, 'UsageError');
      assert.equal(error.input, '--snapshotter');
      assert.match(error.message, /no snapshotter "nydsu" loaded; loaded: .*\bnydus\b/);
      assert.match(error.message, /overlayfs/);
      assert.equal(await records(bed), before);
    });

    test('a namespace subset that leaves records elsewhere is unknown, not clean', async () => {
      assert.ok((await records(bed, 'default')) > 0);
      const r = await cli(['snapshots', 'clean', '--snapshotter', 'nydus', '--namespace', 'k8s.io']);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.json['clean'], 'unknown');
      const missing = r.json['missing'] as string[];
      assert.ok(
        missing.some((m) =>
          /^namespace default not seen: holds \d+ records of nydus .*pass no --namespace to cover all/.test(
            m,
          ),
        ),
        missing.join('\n'),
      );
      assert.equal(await records(bed, 'default'), image.chainIds.length, 'default was not touched');
      const text = await runCli([
        'snapshots',
        'clean',
        '--snapshotter',
        'nydus',
        '--namespace',
        'k8s.io',
        '--containerd-socket',
        bed.socket,
      ]);
      assert.match(text.stdout, /UNKNOWN: namespace default not seen: .*pass no --namespace to cover all/);
    });

    test('nydus stopped and a data directory that does not exist: unknown, nothing removed', async () => {
      const before = await records(bed);
      await bed.nydus?.stop();
      try {
        const r = await cli([
          'snapshots',
          'repair',
          '--snapshotter',
          'nydus',
          '--snapshotter-root',
          join(dir, 'a/dir/that/does/not/exist'),
        ]);
        assert.equal(r.code, 1, r.stderr);
        assert.equal(r.json['repaired'], false);
        const report = r.json['before'] as {
          backend: { known: boolean; reason: string };
          healthy: unknown;
          staleRecords: unknown[];
        };
        assert.equal(report.backend.known, false);
        assert.match(report.backend.reason, /does not exist/);
        assert.equal(report.healthy, 'unknown');
        assert.deepEqual(report.staleRecords, []);
        assert.equal(r.json['snapshotsRemoved'], 0);
        assert.equal(await records(bed), before, 'no record was removed');
        // Without any root the hint names the flag.
        const bare = await cli(['snapshots', 'doctor', '--snapshotter', 'nydus']);
        assert.equal(bare.code, 1);
        assert.match(JSON.stringify(bare.json), /pass --snapshotter-root/);
      } finally {
        await bed.nydus?.start();
        // containerd's connection to the proxy plugin may still sit in reconnect backoff.
        await waitForSnapshotter(bed, 'nydus', 30_000, { namespace: 'k8s.io' });
      }
    });

    test('the whole run has a deadline: past it no new round starts and the verdict says so', async () => {
      await bed.importImage(image, { namespace: 'k8s.io' });
      const r = await cli(['snapshots', 'clean', '--snapshotter', 'nydus', '--deadline', '1ms']);
      assert.equal(r.code, 1);
      assert.equal(r.json['clean'], false);
      assert.equal(r.json['rounds'], 0);
      assert.ok((r.json['reasons'] as string[]).some((x) => /stopped at the deadline/.test(x)));
    });

    test("a built-in snapshotter's inventory is its own metadata.db under containerd's root", async () => {
      await bed.importImage(image, { namespace: 'default', snapshotter: 'overlayfs' });
      const doctor = await cli(['snapshots', 'doctor', '--snapshotter', 'overlayfs']);
      assert.equal(doctor.code, 0, JSON.stringify(doctor.json));
      const backend = doctor.json['backend'] as { known: boolean; source: string; snapshots: number };
      assert.match(
        backend.source,
        /io\.containerd\.snapshotter\.v1\.overlayfs\/metadata\.db \(read from disk\)/,
      );
      assert.equal(backend.snapshots, image.chainIds.length);
      const clean = await cli(['snapshots', 'clean', '--snapshotter', 'overlayfs']);
      assert.equal(clean.code, 0, JSON.stringify(clean.json));
      assert.equal(clean.json['clean'], true);
      const after = (await readMetaDb(bed.metaDbPath)).namespaces.reduce(
        (n, ns) => n + (ns.snapshotters.get('overlayfs')?.snapshots.size ?? 0),
        0,
      );
      assert.equal(after, 0);
      const again = await cli(['snapshots', 'doctor', '--snapshotter', 'overlayfs']);
      assert.equal(again.json['healthy'], true);
    });

    test("containerd stopped, nydus up: the doctor asks nydus on the socket containerd's config names", async () => {
      await bed.stopContainerd();
      try {
        for (const args of [
          ['--containerd-config', bed.configPath],
          ['--meta-db', bed.metaDbPath, '--containerd-config', bed.configPath],
        ]) {
          const r = await cli(['snapshots', 'doctor', '--snapshotter', 'nydus', ...args]);
          assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr} ${JSON.stringify(r.json)}`);
          assert.equal(r.json['healthy'], true);
          const backend = r.json['backend'] as { known: boolean; source: string; snapshots: number };
          assert.equal(backend.known, true);
          assert.match(backend.source, /^socket .*nydus\.sock \(proxy_plugins\.nydus in /);
          assert.equal(backend.snapshots, r.json['records']);
          assert.ok(backend.snapshots > 0);
          assert.deepEqual(r.json['staleRecords'], []);
        }
        // Nothing names meta.db (no config given, containerd down): a usage error, never a guess.
        const none = await cli([
          'snapshots',
          'doctor',
          '--snapshotter',
          'nydus',
          '--containerd-config',
          join(dir, 'missing.toml'),
        ]);
        assert.equal(none.code, 2);
        assert.match(
          (none.json['error'] as { message: string }).message,
          /cannot examine meta\.db: not found/,
        );
      } finally {
        await bed.startContainerd();
      }
    });
  });
}

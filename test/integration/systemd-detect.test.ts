/**
 * Runtime detection through the node's real systemd (the systemd bed), and what happens when systemd cannot be
 * reached. k3s, rke2, k0s and microk8s are not available here: their stand-ins run the bed's containerd 2.1
 * under each distribution's unit name, binary path, socket and configuration layout.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  installDistribution,
  startSystemdBed,
  type Distribution,
  type SystemdBed,
} from '../bed/systemd/index.js';
import { runCli } from '../support/cli.js';
import { criStatus, snapshotTree } from '../support/node-tree.js';

const PAYLOAD = join(import.meta.dirname, '../fixtures/payload');
const HANDLERS = ['kata-qemu', 'kata-clh'];
const ENV = { NODE_NAME: 'systemd-node', SHIMS_X86_64: 'qemu clh' };
const VOLATILE = new Set([
  'run',
  'tmp',
  'var/tmp',
  'var/log',
  'var/lib/systemd',
  'var/lib/rancher/k3s/agent/containerd',
]);

let bed: SystemdBed;
before(async () => {
  bed = await startSystemdBed();
});
after(async () => {
  await bed?.teardown();
});

describe('distributions detected through the node’s systemd (stand-ins)', () => {
  it('k3s stand-in (k3s.service, /run/k3s/containerd): detected as k3s, installed into config-v3.toml.d, k3s.service restarted, cleaned up byte for byte', async () => {
    const node = await installDistribution(bed, '2.1', 'k3s');
    const before = await snapshotTree(bed.root, VOLATILE);
    const pid = await node.mainPid();
    const r = await node.cli(['install', '--artifacts-dir', PAYLOAD, '--json'], ENV);
    assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
    const result = JSON.parse(r.stdout) as { runtime: string; containerd: string };
    process.stdout.write(
      `# k3s stand-in install: runtime ${result.runtime}, containerd ${result.containerd}\n`,
    );
    assert.equal(result.runtime, 'k3s');
    assert.notEqual(await node.mainPid(), pid, 'systemd restarted k3s.service');
    const dropIn = await readFile(
      bed.at('/var/lib/rancher/k3s/agent/etc/containerd/config-v3.toml.d/kata-deploy.toml'),
      'utf8',
    );
    assert.match(dropIn, /kata-qemu/);
    const status = await criStatus(node.socket);
    for (const h of HANDLERS) assert.ok(status?.handlers.includes(h), `CRI on the k3s socket lists ${h}`);

    const c = await node.cli(['cleanup'], ENV);
    assert.equal(c.code, 0, `${c.stderr}\n${c.stdout}`);
    assert.match(c.stdout, /^cleanup on k3s /m);
    assert.deepEqual(await snapshotTree(bed.root, VOLATILE), before);
    await node.stop();
  });

  for (const [distribution, runtime] of [
    ['rke2-server', 'rke2-server'],
    ['k0s-worker', 'k0s-worker'],
    ['microk8s', 'microk8s'],
  ] as const satisfies readonly (readonly [Distribution, string])[]) {
    it(`${distribution} stand-in: detected as ${runtime} by its unit name`, async () => {
      const node = await installDistribution(bed, '2.1', distribution);
      try {
        const r = await node.cli(['install', '--artifacts-dir', PAYLOAD, '--dry-run', '--json'], ENV);
        assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
        const plan = JSON.parse(r.stdout) as { runtime: string; containerd: string };
        assert.equal(plan.runtime, runtime);
        assert.equal(plan.containerd, '2.1.9');
      } finally {
        await node.stop();
      }
    });
  }
});

describe('a systemd that cannot be reached', () => {
  it('from a pod whose --host-root has no systemd socket: exit 2 naming the unit and the cause, nothing written', async () => {
    // A node root without systemd (a real node always has /run/lock, where the node lock is taken first).
    await mkdir(bed.at('/var/lib/empty-node/run/lock'), { recursive: true });
    const r = await bed.inPod(
      process.execPath,
      [
        join(import.meta.dirname, '../../bin/kata-deploy.js'),
        'install',
        '--host-root',
        '/mnt/host/var/lib/empty-node',
        '--artifacts-dir',
        PAYLOAD,
        '--service-manager',
        'systemd',
        '--json',
      ],
      { env: ENV },
    );
    assert.equal(r.code, 2, `${r.stderr}\n${r.stdout}`);
    const error = (
      JSON.parse(r.stdout) as { error: { kind: string; message: string; input: string; hint: string } }
    ).error;
    process.stdout.write(`# unreachable systemd: exit ${r.code}, ${JSON.stringify(error)}\n`);
    assert.equal(error.input, 'snap.microk8s.daemon-containerd.service');
    assert.match(error.message, /snap\.microk8s\.daemon-containerd\.service/);
    assert.match(error.message, /\/mnt\/host\/var\/lib\/empty-node\/run\/systemd\/private.*ENOENT/);
    assert.match(error.hint, /hostPID: true/);
    assert.deepEqual(
      await snapshotTree(bed.at('/var/lib/empty-node'), new Set()),
      { run: 'dir 755', 'run/lock': 'dir 755' },
      'nothing written',
    );
  });

  it('from outside the node’s PID namespace (no hostPID): systemd refuses the peer; exit 2, nothing written', async () => {
    {
      const before = await snapshotTree(bed.root, VOLATILE);
      const r = await runCli(
        ['install', '--host-root', bed.root, '--artifacts-dir', PAYLOAD, '--service-manager', 'systemd'],
        { env: ENV },
      );
      assert.equal(r.code, 2, `${r.stderr}\n${r.stdout}`);
      process.stdout.write(`# systemd from another PID namespace: exit ${r.code}: ${r.stderr.trim()}\n`);
      assert.match(
        r.stderr,
        /cannot tell which runtime this node runs: asking whether snap\.microk8s\.daemon-containerd\.service is active failed/,
      );
      assert.match(r.stderr, /systemd does not answer on .*\/run\/systemd\/private/);
      assert.match(r.stderr, /hostPID: true/);
      assert.deepEqual(await snapshotTree(bed.root, VOLATILE), before);
    }
  });
});

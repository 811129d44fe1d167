/**
 * Changing snapshotters on a live node, without a fresh node: real containerd 2.1.9 (CRI on, the process
 * supervisor, a sandbox host root), the real nydus-snapshotter, mkfs.erofs 1.8.6, images pulled from a local
 * registry and a runc container running through every change. After each change: the container still runs,
 * the old snapshotter's records that no workload needs are gone (never on missing evidence) and what holds the
 * rest is named, the next pull through the new snapshotter works, and `snapshots doctor` is healthy.
 *
 * erofs merged → unmerged: containerd 2.1 has no `max_unmerged_layers` (2.2), so the install declares
 * CONTAINER_RUNTIME_VERSION=containerd://2.2.0 to write the 2.2 keys, which 2.1.9 ignores; the change of the
 * written configuration, the record cleanup and the pulls are real, the merged layout itself is not.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readMetaDb } from '../../src/containerd/metadb/index.js';
import type { RunResult } from '../../src/lifecycle/index.js';
import { NYDUS, useSnapshotterNodes, type SnapshotterNode } from '../support/snapshotter-node.js';

const EROFS_21 = {
  EXPERIMENTAL_SETUP_SNAPSHOTTER: 'erofs',
  EROFS_SNAPSHOTTER_MODE: 'memory',
  EROFS_MERGE_MODE: 'unmerged',
  EROFS_FSVERITY: 'off',
};
const NYDUS_ENV = {
  EXPERIMENTAL_SETUP_SNAPSHOTTER: 'nydus',
  SNAPSHOTTER_HANDLER_MAPPING_X86_64: 'qemu:nydus',
};

const { refs, node } = useSnapshotterNodes('snapshotter-change');

async function records(n: SnapshotterNode, snapshotter: string): Promise<number> {
  return (await readMetaDb(n.metaDb)).namespaces.reduce(
    (sum, ns) => sum + (ns.snapshotters.get(snapshotter)?.snapshots.size ?? 0),
    0,
  );
}

/** The doctor's verdict for each snapshotter, printed for the report; every one must be healthy. */
async function doctorHealthy(n: SnapshotterNode, change: string, snapshotters: string[]): Promise<void> {
  for (const s of snapshotters) {
    const d = await n.snapshots('doctor', s);
    const backend = d.json['backend'] as { source?: string } | undefined;
    console.log(
      `${change}: doctor --snapshotter ${s}: healthy=${String(d.json['healthy'])}, records=${String(d.json['records'])}, stale=${(d.json['staleRecords'] as unknown[] | undefined)?.length}, backend ${backend?.source ?? '?'}`,
    );
    assert.equal(d.code, 0, `${change}: doctor ${s}: ${JSON.stringify(d.json)}`);
    assert.equal(d.json['healthy'], true);
  }
}

const outcome = (r: RunResult, name: string) => r.snapshotters?.find((o) => o.snapshotter === name);

describe('changing snapshotters on a node with images and a running container (containerd 2.1.9)', () => {
  it('nydus → erofs: nydus keeps serving c1 and is removed once c1 is gone; pulls through erofs work', async () => {
    const n = await node();
    await n.ok('install', { SHIMS_X86_64: 'qemu', ...NYDUS_ENV });
    await n.mustPull(refs['busybox']!, NYDUS, 'under nydus');
    await n.mustPull(refs['app']!, NYDUS, 'under nydus');
    await n.runContainer('change-c1', refs['busybox']!, NYDUS);
    assert.equal(await records(n, NYDUS), 1 + 3 + 1);

    const change = await n.ok('install', {
      SHIMS_X86_64: 'qemu',
      ...EROFS_21,
      SNAPSHOTTER_HANDLER_MAPPING_X86_64: 'qemu:erofs',
    });
    const left = outcome(change, NYDUS);
    console.log(`nydus → erofs: ${JSON.stringify({ ...left, evidence: undefined })}`);
    assert.equal(left?.decision, 'keep');
    assert.deepEqual(
      left?.heldBy.map((h) => `${h.container}:${h.taskStatus}`),
      ['change-c1:RUNNING'],
    );
    assert.equal(await n.taskStatus('change-c1'), 'RUNNING');
    assert.equal(await records(n, NYDUS), 2, "only c1's chain is left in nydus; the app's records are gone");
    const dropIn = await n.configText('opt/kata/containerd/config.d/kata-deploy.toml');
    assert.match(dropIn, /\[proxy_plugins\."?nydus-for-kata-tee"?\]/, 'nydus keeps serving c1');
    assert.match(dropIn, /runtime_platforms\.kata-qemu\]\nsnapshotter = "erofs"/);
    const state = JSON.parse((await n.host.readText('/var/lib/kata-deploy/install.json'))!) as {
      snapshotters: unknown;
    };
    assert.deepEqual(state.snapshotters, {
      setup: ['erofs'],
      mapping: { 'kata-qemu': 'erofs' },
      erofs: { mode: 'memory', merge: 'unmerged', dmverity: false, fsverity: false },
      retained: ['nydus'],
    });
    await n.mustPull(refs['app']!, 'erofs', 'after nydus → erofs');
    await doctorHealthy(n, 'nydus → erofs', ['erofs', NYDUS]);

    await n.killTask('change-c1');
    const retire = await n.ok('install', {
      SHIMS_X86_64: 'qemu',
      ...EROFS_21,
      SNAPSHOTTER_HANDLER_MAPPING_X86_64: 'qemu:erofs',
    });
    assert.equal(outcome(retire, NYDUS)?.decision, 'wiped', JSON.stringify(retire.snapshotters));
    assert.equal(existsSync(join(n.root, 'var/lib', NYDUS)), false);
    assert.equal(existsSync(join(n.root, 'etc/kata-deploy/services', `${NYDUS}.service.json`)), false);
    assert.doesNotMatch(await n.configText('opt/kata/containerd/config.d/kata-deploy.toml'), /proxy_plugins/);
    assert.equal(await records(n, NYDUS), 0);
    await n.mustPull(refs['busybox']!, 'erofs', 'after nydus was removed');
    await doctorHealthy(n, 'nydus → erofs (nydus removed)', ['erofs']);
  });

  it('erofs merged → unmerged: the old layout is cleaned but for c2, max_unmerged_layers goes', async () => {
    const n = await node();
    const merged = {
      SHIMS_X86_64: 'qemu-runtime-rs',
      SNAPSHOTTER_HANDLER_MAPPING_X86_64: 'qemu-runtime-rs:erofs',
      EXPERIMENTAL_SETUP_SNAPSHOTTER: 'erofs',
      EROFS_SNAPSHOTTER_MODE: 'memory',
      EROFS_MERGE_MODE: 'merged',
      EROFS_FSVERITY: 'off',
      CONTAINER_RUNTIME_VERSION: 'containerd://2.2.0',
    };
    await n.ok('install', merged);
    assert.match(
      await n.configText('opt/kata/containerd/config.d/kata-deploy.toml'),
      /max_unmerged_layers = 0/,
    );
    await n.mustPull(refs['busybox']!, 'erofs', 'merged');
    await n.mustPull(refs['app']!, 'erofs', 'merged');
    await n.runContainer('merge-c2', refs['busybox']!, 'erofs');

    const change = await n.ok('install', { ...merged, EROFS_MERGE_MODE: 'unmerged' });
    assert.ok(change.steps.some((s) => s.kind === 'cleanSnapshotterRecords' && s.snapshotter === 'erofs'));
    const o = outcome(change, 'erofs');
    console.log(`erofs merged → unmerged: ${JSON.stringify({ ...o, evidence: undefined })}`);
    assert.equal(o?.builtIn, true);
    assert.deepEqual(
      o?.heldBy.map((h) => `${h.container}:${h.taskStatus}`),
      ['merge-c2:RUNNING'],
    );
    assert.equal(await n.taskStatus('merge-c2'), 'RUNNING');
    assert.equal(await records(n, 'erofs'), 2, "only c2's chain is left");
    const dropIn = await n.configText('opt/kata/containerd/config.d/kata-deploy.toml');
    assert.doesNotMatch(dropIn, /max_unmerged_layers/);
    assert.match(dropIn, /default_size = "0"/);
    await n.mustPull(refs['app']!, 'erofs', 'after merged → unmerged');
    await doctorHealthy(n, 'erofs merged → unmerged', ['erofs']);
  });

  it('nydus removed: it keeps serving c3, pulls go to the default snapshotter; cleanup removes it later', async () => {
    const n = await node();
    await n.ok('install', { SHIMS_X86_64: 'qemu', ...NYDUS_ENV });
    await n.mustPull(refs['busybox']!, NYDUS, 'under nydus');
    await n.mustPull(refs['app']!, NYDUS, 'under nydus');
    await n.runContainer('removed-c3', refs['busybox']!, NYDUS);

    const change = await n.ok('install', { SHIMS_X86_64: 'qemu' });
    const left = outcome(change, NYDUS);
    console.log(`nydus removed: ${JSON.stringify({ ...left, evidence: undefined })}`);
    assert.equal(left?.decision, 'keep');
    assert.deepEqual(
      left?.heldBy.map((h) => `${h.container}:${h.taskStatus}`),
      ['removed-c3:RUNNING'],
    );
    assert.equal(await n.taskStatus('removed-c3'), 'RUNNING');
    assert.equal(await records(n, NYDUS), 2);
    assert.doesNotMatch(
      await n.configText('opt/kata/containerd/config.d/kata-deploy.toml'),
      /snapshotter = /,
    );
    await n.mustPull(refs['app']!, 'overlayfs', 'after nydus was removed');
    await doctorHealthy(n, 'nydus removed', [NYDUS, 'overlayfs']);

    await n.killTask('removed-c3');
    const cleanup = await n.ok('cleanup', { SHIMS_X86_64: 'qemu' });
    assert.equal(outcome(cleanup, NYDUS)?.decision, 'wiped', JSON.stringify(cleanup.snapshotters));
    assert.equal(existsSync(join(n.root, 'var/lib', NYDUS)), false);
    assert.equal(await records(n, NYDUS), 0);
    await doctorHealthy(n, 'nydus removed (then uninstalled)', ['overlayfs']);
  });

  it("overlayfs → nydus: the node's default snapshotter is never cleaned; pulls through nydus work", async () => {
    const n = await node();
    await n.ok('install', { SHIMS_X86_64: 'qemu' });
    await n.mustPull(refs['busybox']!, 'overlayfs', 'under overlayfs');
    await n.mustPull(refs['app']!, 'overlayfs', 'under overlayfs');
    await n.runContainer('overlay-c4', refs['busybox']!, 'overlayfs');
    const before = await records(n, 'overlayfs');

    const change = await n.ok('install', { SHIMS_X86_64: 'qemu', ...NYDUS_ENV });
    assert.equal(outcome(change, 'overlayfs'), undefined, 'overlayfs is not kata-deploy’s to clean');
    assert.equal(await records(n, 'overlayfs'), before, "overlayfs's records stay");
    assert.equal(await n.taskStatus('overlay-c4'), 'RUNNING');
    await n.mustPull(refs['app']!, NYDUS, 'after overlayfs → nydus');
    await doctorHealthy(n, 'overlayfs → nydus', [NYDUS, 'overlayfs']);
  });
});

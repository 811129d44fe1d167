/**
 * `kata-deploy install | cleanup` with EXPERIMENTAL_SETUP_SNAPSHOTTER=erofs on a real containerd 2.1.9 (CRI on,
 * the process supervisor, a sandbox host root) whose PATH has mkfs.erofs from erofs-utils 1.8.6. What 2.1
 * cannot do is refused before anything is written, naming containerd 2.2; what this kernel lacks (fs-verity,
 * dm_mod, dm_verity) is refused by the host rules. With settings 2.1 honours, a handler mapped to erofs, a
 * pull unpacked into erofs layers, a runc container on them, and an uninstall that gives the tree back.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { snapshotTree } from '../support/node-tree.js';
import { useSnapshotterNodes } from '../support/snapshotter-node.js';

const VOLATILE = new Set(['run', 'var/lib/containerd', 'var/lib/containerd-opt', 'var/log']);
const ON_21 = {
  SHIMS_X86_64: 'qemu qemu-runtime-rs',
  EXPERIMENTAL_SETUP_SNAPSHOTTER: 'erofs',
  SNAPSHOTTER_HANDLER_MAPPING_X86_64: 'qemu:erofs',
  EROFS_SNAPSHOTTER_MODE: 'memory',
  EROFS_MERGE_MODE: 'unmerged',
  EROFS_FSVERITY: 'off',
};

const { refs, node } = useSnapshotterNodes('erofs-lifecycle');

const tree = (root: string) => snapshotTree(root, VOLATILE);

describe('erofs on containerd 2.1.9', () => {
  it('refuses, before anything is written, what 2.1 or this kernel cannot do, and says what it needs', async () => {
    const n = await node();
    const before = await tree(n.root);
    const defaults = await n.cli('install', {
      SHIMS_X86_64: 'qemu-runtime-rs',
      EXPERIMENTAL_SETUP_SNAPSHOTTER: 'erofs',
      SNAPSHOTTER_HANDLER_MAPPING_X86_64: 'qemu-runtime-rs:erofs',
    });
    assert.equal(defaults.code, 2, defaults.stderr);
    const message = (JSON.parse(defaults.stdout) as { error: { message: string; input: string } }).error;
    assert.match(
      message.message,
      /EROFS_SNAPSHOTTER_MODE=disk .*EROFS_MERGE_MODE=merged .*need containerd 2\.2 or later/,
    );
    assert.match(message.message, /this node runs containerd 2\.1\.9/);
    assert.equal(message.input, 'EROFS_SNAPSHOTTER_MODE');

    const dm = await n.cli('install', { ...ON_21, EROFS_DMVERITY: 'dmverity' });
    assert.equal(dm.code, 2);
    assert.match(
      dm.stdout,
      /EROFS_DMVERITY=dmverity \(dmverity_mode, enable_dmverity\): needs containerd 2\.2/,
    );

    // What 2.2 would be given, as far as this kernel goes: the host rules refuse dm-verity (no dm_mod here).
    const declared22 = await n.cli('install', {
      ...ON_21,
      EROFS_DMVERITY: 'dmverity',
      CONTAINER_RUNTIME_VERSION: 'containerd://2.2.0',
    });
    assert.equal(declared22.code, 1, declared22.stdout);
    assert.match(declared22.stdout, /dm_mod: not in this kernel/);
    assert.match(declared22.stdout, /dm_verity: not in this kernel/);

    // fs-verity asked (upstream always asks) on a kernel without CONFIG_FS_VERITY: containerd 2.1.9 would not
    // load its erofs snapshotter, and every service would fail with it.
    const { EROFS_FSVERITY: _, ...fsverityOn } = ON_21;
    const verity = await n.cli('install', fsverityOn);
    assert.equal(verity.code, 1, verity.stdout);
    assert.match(verity.stdout, /CONFIG_FS_VERITY is not set/);
    assert.match(verity.stdout, /EROFS_FSVERITY=off/);

    // A Go shim on merged erofs: a settings error (exit 2), as upstream refuses it.
    const go = await n.cli('install', { ...ON_21, EROFS_MERGE_MODE: 'merged' });
    assert.equal(go.code, 2);
    assert.match(go.stdout, /Go-runtime shim mapped to erofs .*qemu is one/);
    assert.deepEqual(await tree(n.root), before, 'nothing was written');
  });

  it('install → pull into erofs layers → a runc container on them → uninstall gives the tree back', async () => {
    const n = await node();
    const before = await tree(n.root);
    const install = await n.ok('install', ON_21);
    assert.equal(install.verification?.verdict, 'positive', JSON.stringify(install.verification));
    const dropIn = await n.configText('opt/kata/containerd/config.d/kata-deploy.toml');
    console.log(`--- kata-deploy's drop-in on containerd 2.1.9 ---\n${dropIn}`);
    assert.match(
      dropIn,
      /\[plugins\."io\.containerd\.service\.v1\.diff-service"\]\ndefault = \["erofs", "walking"\]/,
    );
    assert.match(dropIn, /enable_fsverity = false\nset_immutable = true/);
    assert.match(dropIn, /mkfs_options = \["-T0", "--mkfs-time", "--sort=none"\]/);
    assert.match(dropIn, /discard_unpacked_layers = false/);
    assert.match(dropIn, /runtime_platforms\.kata-qemu\]\nsnapshotter = "erofs"/);
    assert.doesNotMatch(
      dropIn,
      /max_unmerged_layers|default_size|dmverity|tar_index/,
      '2.2 keys are not written on 2.1',
    );

    await n.mustPull(refs['busybox']!, 'erofs', 'after install');
    await n.mustPull(refs['app']!, 'erofs', 'after install');
    const store = join(n.root, 'var/lib/containerd/io.containerd.snapshotter.v1.erofs/snapshots');
    const layers = (await readdir(store)).filter((id) => existsSync(join(store, id, 'layer.erofs')));
    assert.equal(layers.length, 4, 'busybox (1) and app (3) unpacked as layer.erofs by mkfs.erofs');
    const log = await readFile(join(n.root, 'var/log/containerd.log'), 'utf8');
    assert.match(log, /running \S*mkfs\.erofs \[mkfs\.erofs --tar=f .*-T0 --mkfs-time --sort=none/);
    await n.runContainer('erofs-c1', refs['busybox']!, 'erofs');
    // containerd runs in a mount namespace of its own: its mounts are seen through its pid.
    const pid = (await n.host.readText('/run/kata-deploy/services/containerd.service.pid'))!.split(' ')[0];
    const mounts = await readFile(`/proc/${pid}/mountinfo`, 'utf8');
    assert.match(mounts, new RegExp(`${store}/\\d+/fs .* - erofs `), 'layers mounted as erofs');
    assert.match(
      mounts,
      new RegExp(`- overlay overlay rw,lowerdir=${store}/\\d+/fs,upperdir=${store}/\\d+/fs`),
    );
    console.log(
      `--- erofs-c1: task ${await n.taskStatus('erofs-c1')} (pid ${await n.taskPid('erofs-c1')}) on erofs layers ---`,
    );
    const doctor = await n.snapshots('doctor', 'erofs');
    assert.equal(doctor.json['healthy'], true, JSON.stringify(doctor.json));

    const cleanup = await n.ok('cleanup', ON_21);
    assert.equal(cleanup.verification?.verdict, 'positive');
    assert.equal(await n.taskStatus('erofs-c1'), 'RUNNING', 'the container outlives the uninstall');
    assert.deepEqual(await tree(n.root), before, 'uninstall gives the tree back byte for byte');
    const afterDoctor = await n.snapshots('doctor', 'erofs');
    assert.equal(afterDoctor.json['healthy'], true, JSON.stringify(afterDoctor.json));
  });
});

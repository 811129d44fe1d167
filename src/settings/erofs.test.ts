import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadSettings } from './load.js';
import { UsageError } from '../errors/index.js';

const load = (env: Record<string, string>) =>
  loadSettings({ env: { NODE_NAME: 'node-1', ...env }, arch: 'x86_64' });

describe('erofs settings', () => {
  it("default to upstream's: disk, merged, no dm-verity, fs-verity on", () => {
    assert.deepEqual(load({}).erofs, { mode: 'disk', merge: 'merged', dmverity: false, fsverity: true });
    assert.deepEqual(
      load({
        EROFS_SNAPSHOTTER_MODE: 'memory',
        EROFS_MERGE_MODE: 'unmerged',
        EROFS_DMVERITY: 'dmverity',
        EROFS_FSVERITY: 'off',
      }).erofs,
      { mode: 'memory', merge: 'unmerged', dmverity: true, fsverity: false },
    );
  });

  it('refuse a Go-runtime shim mapped to erofs in merged mode, naming the shims and the fix', () => {
    const env = {
      SHIMS_X86_64: 'qemu clh qemu-runtime-rs',
      EXPERIMENTAL_SETUP_SNAPSHOTTER: 'erofs',
      SNAPSHOTTER_HANDLER_MAPPING_X86_64: 'qemu:erofs,clh:erofs,qemu-runtime-rs:erofs',
    };
    assert.throws(
      () => load(env),
      (e: unknown) =>
        e instanceof UsageError &&
        e.input === 'SNAPSHOTTER_HANDLER_MAPPING_X86_64' &&
        /qemu, clh are; set EROFS_MERGE_MODE=unmerged/.test(e.message),
    );
    assert.throws(() => load({ ...env, EROFS_MERGE_MODE: 'merged' }), UsageError);
    // unmerged: the Go runtime reads per-layer erofs.
    assert.equal(load({ ...env, EROFS_MERGE_MODE: 'unmerged' }).snapshotterMapping.get('qemu'), 'erofs');
    // runtime-rs only: fine in merged mode.
    const rs = load({ ...env, SNAPSHOTTER_HANDLER_MAPPING_X86_64: 'qemu-runtime-rs:erofs' });
    assert.equal(rs.erofs.merge, 'merged');
    // Not set up by kata-deploy: the merge mode is not written, so nothing to refuse (as upstream).
    const { EXPERIMENTAL_SETUP_SNAPSHOTTER: _, ...notSetUp } = env;
    assert.equal(load(notSetUp).snapshotterMapping.get('qemu'), 'erofs');
  });
});

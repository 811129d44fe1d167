/**
 * Fault suite, symlinked layouts inside the host root, with real containerd: /etc/containerd a relative link to
 * a directory beside it. Install edits the real file and containerd serves the handlers; cleanup restores the
 * root byte for byte, the link included, and restarts containerd (it used to fail with ENOTDIR after /opt/kata
 * was gone, the link having been recorded as a directory kata-deploy created).
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { rename, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { criStatus } from '../support/node-tree.js';
import { assertOk, disposeNodes, HANDLERS, startNode } from './node.js';

after(disposeNodes);

const linkedEtc = async (root: string) => {
  await rename(join(root, 'etc/containerd'), join(root, 'etc/containerd-real'));
  await symlink('containerd-real', join(root, 'etc/containerd'));
};

describe('symlinked layouts inside the host root', () => {
  for (const version of ['2.1', '1.7'] as const) {
    it(`containerd ${version}: /etc/containerd -> containerd-real; install serves, cleanup restores all`, async () => {
      const node = await startNode({ version, layout: linkedEtc });
      const socket = join(node.root, 'run/containerd/containerd.sock');
      const before = await node.snapshot();
      const pid = await node.containerds();
      assertOk(await node.cli('install'), 'install');
      const served = await criStatus(socket);
      for (const h of HANDLERS) assert.ok(served?.handlers.includes(h), `CRI serves ${h}`);
      assertOk(await node.cli('cleanup'), 'cleanup');
      assert.deepEqual(await node.snapshot(), before, 'byte for byte, the link included');
      const after = await node.containerds();
      assert.equal(after.length, 1);
      assert.notDeepEqual(after, pid, 'containerd was restarted');
      const gone = await criStatus(socket);
      for (const h of HANDLERS) assert.ok(!gone?.handlers.includes(h), `${h} no longer served`);
      assert.deepEqual(await node.temps(), []);
      await node.dispose();
    });
  }
});

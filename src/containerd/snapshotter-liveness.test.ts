import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeSnapshotterSocket } from './snapshotter-liveness.js';

describe('the snapshotter liveness probe', () => {
  it('stopped only when nothing is there or nothing listens; a silent listener is unresponsive', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kd-liveness-'));
    try {
      const socket = join(dir, 's.sock');
      assert.equal((await probeSnapshotterSocket(socket, 500)).state, 'stopped');

      // A listener killed with SIGKILL leaves its socket file behind: connection refused.
      spawnSync(process.execPath, [
        '-e',
        `require('net').createServer().listen(${JSON.stringify(socket)}, () => process.kill(process.pid, 'SIGKILL'))`,
      ]);
      assert.ok(existsSync(socket));
      const refused = await probeSnapshotterSocket(socket, 500);
      assert.deepEqual(refused, { state: 'stopped', detail: `nothing listens on ${socket}` });

      await rm(socket);
      const connections = new Set<import('node:net').Socket>();
      const server = createServer((c) => connections.add(c));
      await new Promise<void>((r) => server.listen(socket, r));
      try {
        const silent = await probeSnapshotterSocket(socket, 300);
        assert.equal(silent.state, 'unresponsive', 'accepted but never answered: still running, not stopped');
      } finally {
        for (const c of connections) c.destroy();
        server.close();
      }

      await writeFile(join(dir, 'file'), '');
      assert.equal((await probeSnapshotterSocket(join(dir, 'file'), 300)).state, 'unresponsive');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

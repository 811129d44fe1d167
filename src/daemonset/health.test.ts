import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { startHealthServer } from './health.js';
import { UsageError } from '../errors/index.js';

describe('startHealthServer', () => {
  it('a port another process holds is a usage error naming HEALTH_PORT, not an internal error', async () => {
    const holder = createServer();
    await new Promise<void>((r) => holder.listen(0, r));
    const port = (holder.address() as { port: number }).port;
    try {
      await assert.rejects(
        startHealthServer(port, () => 'installing'),
        (e: unknown) => {
          assert.ok(e instanceof UsageError);
          assert.equal(e.input, 'HEALTH_PORT');
          assert.match(e.message, new RegExp(`HEALTH_PORT ${port}: the port is in use`));
          return true;
        },
      );
    } finally {
      holder.close();
    }
  });

  it('answers the probes on a free port', async () => {
    const server = await startHealthServer(0, () => 'ready');
    try {
      const r = await fetch(`http://127.0.0.1:${server.port}/readyz`);
      assert.equal(r.status, 200);
    } finally {
      await server.close();
    }
  });
});

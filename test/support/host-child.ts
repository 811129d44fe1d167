/**
 * A child process doing one host-layer operation, for tests that kill it (SIGKILL from outside, or through
 * KATA_DEPLOY_TEST_FAULT at a point inside). Run as `node --import tsx host-child.ts '<json>'`; it prints
 * `ready` once the operation is under way (for `lock`: once the lock is held) and `done` at the end.
 *
 *   { "op": "lock", "path": "<real path>", "holdMs": 60000 }
 *   { "op": "start", "root": "<host root>", "unit": "x.service" }
 *   { "op": "write", "path": "<real path>", "data": "..." }
 */
import { acquireLock } from '../../src/host/lock.js';
import { writeAtomic } from '../../src/host/fs.js';
import { processSupervisor } from '../../src/host/service/process.js';

type Op =
  | { op: 'lock'; path: string; holdMs: number; waitMs?: number }
  | { op: 'start'; root: string; unit: string }
  | { op: 'write'; path: string; data: string };

export const HOST_CHILD = new URL(import.meta.url).pathname;

async function main(op: Op): Promise<void> {
  switch (op.op) {
    case 'lock': {
      const lock = await acquireLock(op.path, { waitMs: op.waitMs ?? 60_000, pollMs: 20 });
      process.stdout.write('ready\n');
      await new Promise((r) => setTimeout(r, op.holdMs));
      await lock.release();
      break;
    }
    case 'start':
      process.stdout.write('ready\n');
      await processSupervisor({ hostRoot: op.root, specDir: '/etc/kata-deploy/services' }).start(op.unit);
      break;
    case 'write':
      process.stdout.write('ready\n');
      await writeAtomic(op.path, op.data);
      break;
  }
  process.stdout.write('done\n');
}

if (process.argv[1] === HOST_CHILD) await main(JSON.parse(process.argv[2]!) as Op);

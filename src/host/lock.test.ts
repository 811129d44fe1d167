import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HOST_CHILD } from '../../test/support/host-child.js';
import { acquireLock } from './lock.js';
import { formatIdentity, identify } from './proc.js';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'kd-lock-'));
});
after(async () => rm(root, { recursive: true, force: true }));

/** A child process holding the lock at `path` until killed; resolves once it holds it. */
async function holder(path: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', HOST_CHILD, JSON.stringify({ op: 'lock', path, holdMs: 600_000 })],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`the lock holder exited (${code})`)));
  });
  return child;
}

const killed = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });

describe('node lock', () => {
  it('is exclusive, names its holder, and leaves nothing behind on release', async () => {
    await mkdir(join(root, 'a/run'), { recursive: true });
    const path = join(root, 'a/run/lock/kata-deploy.lock');
    const lock = await acquireLock(path, { waitMs: 0 });
    assert.equal(await readFile(path, 'utf8'), formatIdentity(identify(process.pid)!));
    await assert.rejects(
      acquireLock(path, { waitMs: 150, pollMs: 20 }),
      new RegExp(`another kata-deploy \\(pid ${process.pid}\\) holds the node lock`),
    );
    await lock.release();
    await lock.release();
    assert.deepEqual(
      await readdir(join(root, 'a/run')),
      [],
      'the lock file and run/lock it created are gone',
    );
  });

  it('is not held by a file that names a live process which does not hold it (no deadlock)', async () => {
    const path = join(root, 'b/kata-deploy.lock');
    await mkdir(join(root, 'b'));
    await writeFile(path, formatIdentity(identify(process.ppid) ?? identify(1)!));
    const lock = await acquireLock(path, { waitMs: 0 });
    await lock.release();
    await writeFile(path, '');
    const again = await acquireLock(path, { waitMs: 0 });
    await again.release();
  });

  it('waits for a live holder and is free the moment the holder is killed -9', async () => {
    const path = join(root, 'c/kata-deploy.lock');
    const child = await holder(path);
    try {
      await assert.rejects(
        acquireLock(path, { waitMs: 200, pollMs: 20 }),
        new RegExp(`\\(pid ${child.pid}\\) holds the node lock`),
      );
      const waiting = acquireLock(path, { waitMs: 10_000, pollMs: 20 });
      await killed(child);
      const started = Date.now();
      const lock = await waiting;
      assert.ok(Date.now() - started < 2_000);
      await lock.release();
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('is not inherited by a process started while it is held', async () => {
    const path = join(root, 'd/kata-deploy.lock');
    const lock = await acquireLock(path, { waitMs: 0 });
    const daemon = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
    try {
      await lock.release();
      const child = await holder(path);
      await killed(child);
    } finally {
      daemon.kill('SIGKILL');
    }
  });

  it('refuses a symlink in place of the lock file', async () => {
    await mkdir(join(root, 'e'));
    await writeFile(join(root, 'elsewhere'), 'not a lock');
    await symlink(join(root, 'elsewhere'), join(root, 'e/kata-deploy.lock'));
    await assert.rejects(acquireLock(join(root, 'e/kata-deploy.lock'), { waitMs: 0 }), /is a symlink/);
    assert.equal(await readFile(join(root, 'elsewhere'), 'utf8'), 'not a lock');
  });
});

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { watchFileChanges } from './file-changes.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kd-changes-'));
});
after(async () => rm(dir, { recursive: true, force: true }));

describe('watchFileChanges', () => {
  it('wakes a waiter when the file is written, and times out when it is not', async () => {
    const file = join(dir, 'meta.db');
    await writeFile(file, 'a');
    const changes = watchFileChanges(file);
    assert.ok(changes, 'inotify is available here');
    try {
      changes.arm();
      const started = Date.now();
      assert.equal(await changes.next(50), false);
      assert.ok(Date.now() - started >= 45);

      changes.arm();
      const waiting = changes.next(5_000);
      await appendFile(file, 'b');
      const woke = Date.now();
      assert.equal(await waiting, true);
      assert.ok(Date.now() - woke < 1_000, 'woken by the write, not by the timeout');
    } finally {
      changes.close();
    }
  });

  it('remembers a change that came before the wait, until armed again', async () => {
    const file = join(dir, 'early.db');
    await writeFile(file, 'a');
    const changes = watchFileChanges(file);
    assert.ok(changes);
    try {
      changes.arm();
      await appendFile(file, 'b');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(await changes.next(5_000), true);
      changes.arm();
      assert.equal(await changes.next(30), false);
    } finally {
      changes.close();
    }
  });

  it('returns undefined for a file that does not exist, so the caller polls', () => {
    assert.equal(watchFileChanges(join(dir, 'missing.db')), undefined);
  });
});

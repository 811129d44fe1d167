/**
 * The systemd bed itself: its root is built and checked before systemd ever starts, the machine's /tmp survives
 * starting and stopping it, and teardown leaves no process, mount or cgroup.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  assertRootReady,
  createSystemdRoot,
  RootNotReadyError,
  runInBedRoot,
  startSystemdBed,
} from '../bed/systemd/index.js';

describe('systemd bed: the root, before systemd', () => {
  it('a command in place of systemd sees the bed root: its own empty /tmp, /usr read-only, no machine root', async () => {
    const r = await runInBedRoot([
      '/bin/sh',
      '-c',
      'echo "pid=$$"; echo "tmp=[$(ls -A /tmp)]"; touch /usr/.x 2>&1 | sed "s/^/usr: /"; cat /proc/self/mountinfo; cat /proc/self/cgroup',
    ]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /^pid=1$/m);
    assert.match(r.output, /^tmp=\[\]$/m, 'the bed has its own, empty /tmp');
    assert.match(r.output, /usr: .*Read-only file system/);
    const mounts = r.output
      .split('\n')
      .filter((l) => / - /.test(l))
      .map((l) => l.split(' ')[4]);
    assert.deepEqual(
      mounts.filter((m) => !m!.startsWith('/dev/') && !m!.startsWith('/proc/')),
      ['/', '/usr', '/usr/local', '/run', '/proc', '/sys', '/sys/fs/cgroup', '/dev'],
    );
    assert.match(r.output, /^0::\/$/m, 'the cgroup namespace starts at the bed’s own cgroup');
  });

  it('refuses to start on a root whose tmpfiles units are not masked, or that is not a bed root', async () => {
    const layout = await createSystemdRoot();
    try {
      await unlink(join(layout.root, 'etc/systemd/system/systemd-tmpfiles-setup.service'));
      await assert.rejects(assertRootReady(layout), RootNotReadyError);
      await assert.rejects(
        assertRootReady({ ...layout, dir: '/tmp', root: '/tmp/root' }),
        /not a bed directory/,
      );
      await writeFile(join(layout.root, 'usr/stray'), '');
      await assert.rejects(assertRootReady(layout), RootNotReadyError);
    } finally {
      await rm(layout.dir, { recursive: true, force: true });
    }
  });
});

describe('systemd bed: the machine is left as it was', () => {
  it("a file and a dir the test puts in the machine's /tmp (old enough for any cleanup age) survive start and stop", async () => {
    const canary = `/tmp/kd-sd-canary-${randomBytes(4).toString('hex')}`;
    await mkdir(canary);
    await writeFile(join(canary, 'file'), 'still here\n');
    await writeFile(`${canary}.file`, 'me too\n');
    const old = new Date(Date.now() - 40 * 24 * 3600 * 1000);
    for (const p of [join(canary, 'file'), canary, `${canary}.file`]) await utimes(p, old, old);
    try {
      const bed = await startSystemdBed();
      const state = (await bed.systemctl(['is-system-running'])).stdout.trim();
      assert.equal(state, 'running');
      const masked = (
        await bed.systemctl(['is-enabled', 'systemd-tmpfiles-setup.service'], { allowFail: true })
      ).stdout;
      assert.equal(masked.trim(), 'masked');
      await bed.teardown();
      assert.equal(existsSync(bed.layout.dir), false, 'teardown removed the bed');
      assert.equal(await readFile(join(canary, 'file'), 'utf8'), 'still here\n');
      assert.equal(await readFile(`${canary}.file`, 'utf8'), 'me too\n');
      assert.equal(Math.round((await stat(canary)).mtimeMs), old.getTime(), 'not even touched');
    } finally {
      await rm(canary, { recursive: true, force: true });
      await rm(`${canary}.file`, { force: true });
    }
  });
});

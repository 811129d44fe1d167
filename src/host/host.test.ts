import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, copyFile, readdir, chmod, symlink, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHost, type Host } from './host.js';
import { HostError, UsageError } from '../errors/index.js';
import { run } from '../../test/bed/exec.js';
import { HOST_CHILD } from '../../test/support/host-child.js';

let root: string;
let host: Host;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'kd-host-'));
  host = createHost({ root, serviceManager: 'process' });
});
after(async () => rm(root, { recursive: true, force: true }));

describe('host files', () => {
  it('maps node paths under the root and refuses escapes', () => {
    assert.equal(host.path('/etc/containerd/config.toml'), `${root}/etc/containerd/config.toml`);
    assert.throws(() => host.path('/etc/../../x'), HostError);
    assert.throws(() => host.path('relative'), HostError);
  });

  it('writes atomically, leaving no temp files, and reports created dirs', async () => {
    const created = await host.mkdirp('/a/b/c');
    assert.deepEqual(created, ['/a', '/a/b', '/a/b/c']);
    await host.writeAtomic('/a/b/c/f.toml', 'one\n', 0o600);
    await host.writeAtomic('/a/b/c/f.toml', 'two\n', 0o600);
    assert.equal(await host.readText('/a/b/c/f.toml'), 'two\n');
    assert.deepEqual(await readdir(host.path('/a/b/c')), ['f.toml']);
    assert.equal(((await host.lstat('/a/b/c/f.toml'))!.mode & 0o777).toString(8), '600');
    assert.equal(await host.readText('/a/missing'), undefined);
  });

  it('replaces a running binary without ETXTBSY', async () => {
    const bin = host.path('/opt/kata/bin/shim');
    await host.mkdirp('/opt/kata/bin');
    await copyFile('/bin/sleep', bin);
    await chmod(bin, 0o755);
    const child = spawn(bin, ['30'], { stdio: 'ignore' });
    await new Promise((r) => child.once('spawn', r));
    try {
      await host.copyIn('/bin/true', '/opt/kata/bin/shim', 0o755);
      assert.deepEqual(await readFile(bin), await readFile('/bin/true'));
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('walks a tree with types and link targets', async () => {
    await host.symlink('/a/link', 'b/c/f.toml');
    const entries = await host.walk('/a');
    assert.deepEqual(
      entries.map((e) => `${e.type}:${e.rel}${e.linkTarget ? `->${e.linkTarget}` : ''}`),
      ['dir:b', 'dir:b/c', 'file:b/c/f.toml', 'symlink:link->b/c/f.toml'],
    );
  });
});

describe('node lock through the host', () => {
  it('lives under the root, and a symlinked /run that leads out of it is refused before anything is written', async () => {
    const lock = await host.lock('/run/lock/kata-deploy.lock', { waitMs: 0 });
    assert.match((await host.readText('/run/lock/kata-deploy.lock')) ?? '', new RegExp(`^${process.pid} `));
    await lock.release();
    assert.equal(await host.lstat('/run'), undefined, 'run/ and run/lock, created for the lock, are gone');

    const other = await mkdtemp(join(tmpdir(), 'kd-host-other-'));
    const outside = await mkdtemp(join(tmpdir(), 'kd-host-outside-'));
    try {
      await symlink(outside, join(other, 'run'));
      const escaped = createHost({ root: other, serviceManager: 'process' });
      await assert.rejects(escaped.lock('/run/lock/kata-deploy.lock', { waitMs: 0 }), (e: unknown) => {
        return (
          e instanceof UsageError &&
          /\/run is a symlink to .*which does not exist under the host root/.test(e.message)
        );
      });
      assert.deepEqual(await readdir(outside), []);
      assert.deepEqual(await readdir(other), ['run']);
    } finally {
      await rm(other, { recursive: true, force: true });
      await rm(outside, { recursive: true, force: true });
    }
  });
});

describe('process supervisor', () => {
  it('starts detached, restarts with a new pid, stops, and explains failures', async () => {
    const spec = {
      command: '/bin/sh',
      args: ['-c', 'echo started; exec sleep 60'],
      logFile: '/var/log/svc.log',
    };
    await host.writeAtomic('/etc/kata-deploy/services/svc.service.json', JSON.stringify(spec));
    const svc = host.services;
    assert.equal(await svc.isActive('svc.service'), false);
    await svc.start('svc.service');
    assert.equal(await svc.isActive('svc.service'), true);
    const pid1 = await host.readText('/run/kata-deploy/services/svc.service.pid');
    await svc.restart('svc.service');
    const pid2 = await host.readText('/run/kata-deploy/services/svc.service.pid');
    assert.notEqual(pid1, pid2);
    // The supervisor records the pid before the program runs: let the second start print before stopping it.
    for (let i = 0; i < 100 && !/started\nstarted/.test((await host.readText('/var/log/svc.log')) ?? ''); i++)
      await new Promise((r) => setTimeout(r, 50));
    await svc.stop('svc.service');
    assert.equal(await svc.isActive('svc.service'), false);
    assert.match(await svc.describeFailure('svc.service'), /started\nstarted/);
    assert.equal(await svc.isActive('nothing.service'), false);
    await assert.rejects(svc.start('nothing.service'), /no service spec/);
  });
});

describe('symlinks inside the host root', () => {
  it('a relative link is followed inside the root; a link to a directory is never removed as ours', async () => {
    await mkdir(host.path('/etc/containerd-real'), { recursive: true });
    await symlink('containerd-real', join(root, 'etc/containerd'));
    await host.writeAtomic('/etc/containerd/config.toml', 'version = 2\n');
    assert.equal(await readFile(join(root, 'etc/containerd-real/config.toml'), 'utf8'), 'version = 2\n');
    assert.ok((await host.stat('/etc/containerd'))?.isDirectory());
    assert.ok((await host.lstat('/etc/containerd'))?.isSymbolicLink());
    await host.remove('/etc/containerd/config.toml');
    assert.equal(await host.removeDirIfEmpty('/etc/containerd'), false);
    assert.ok((await host.lstat('/etc/containerd'))?.isSymbolicLink());
  });

  it('a link to a directory outside the root is refused for writing and read as the node reads it', async () => {
    const other = await mkdtemp(join(tmpdir(), 'kd-host-escape-'));
    const outside = await mkdtemp(join(tmpdir(), 'kd-host-outside-'));
    try {
      await mkdir(join(other, 'etc'));
      await symlink(outside, join(other, 'etc/containerd'));
      await writeFile(join(outside, 'config.toml'), "the machine's own\n");
      const h = createHost({ root: other, serviceManager: 'process' });
      assert.equal(await h.readText('/etc/containerd/config.toml'), undefined);
      for (const write of [
        () => h.writeAtomic('/etc/containerd/config.toml.kata-deploy.bak', 'x'),
        () => h.mkdirp('/etc/containerd/conf.d'),
        () => h.copyIn('/bin/true', '/etc/containerd/x', 0o755),
        () => h.symlink('/etc/containerd/l', 'x'),
        async () => h.checkWritable('/etc/containerd/config.toml'),
      ])
        await assert.rejects(write(), UsageError);
      assert.deepEqual(await readdir(outside), ['config.toml']);
      assert.deepEqual(await readdir(other), ['etc']);
    } finally {
      await rm(other, { recursive: true, force: true });
      await rm(outside, { recursive: true, force: true });
    }
  });
});

describe('temp files of killed runs', () => {
  it('a write killed inside leaves its temp file; the sweep removes only those', async () => {
    await host.mkdirp('/sweep/deep');
    const target = host.path('/sweep/config.toml');
    for (const point of ['write.opened', 'write.written', 'write.synced']) {
      const r = await runChild({ op: 'write', path: target, data: 'new\n' }, `${point}`);
      assert.equal(r.signal, 'SIGKILL', `killed at ${point}`);
    }
    await writeFile(host.path('/sweep/deep/.x.kata-deploy-1-0123abcd'), '');
    await writeFile(host.path('/sweep/.operator-file'), 'keep');
    await writeFile(host.path('/sweep/x.kata-deploy-1-0123abcd'), 'keep: not a dot file');
    const temps = (await readdir(host.path('/sweep'))).filter((n) =>
      n.startsWith('.config.toml.kata-deploy-'),
    );
    assert.equal(temps.length, 3);
    assert.equal(await host.readText('/sweep/config.toml'), undefined, 'the target was never half-written');
    const removed = await host.removeStaleTemps(['/sweep'], []);
    assert.equal(removed.length, 3);
    assert.deepEqual((await readdir(host.path('/sweep'))).sort(), [
      '.operator-file',
      'deep',
      'x.kata-deploy-1-0123abcd',
    ]);
    assert.deepEqual(await host.removeStaleTemps([], ['/sweep']), ['/sweep/deep/.x.kata-deploy-1-0123abcd']);
  });

  it('scratch directories live under the root and go away, stale ones with the sweep', async () => {
    const dir = await host.makeScratchDir('dump');
    assert.ok(dir.startsWith(`${host.path('/run/kata-deploy/scratch')}/dump-${process.pid}-`));
    await host.removeScratchDir(dir);
    assert.equal(await host.lstat('/run/kata-deploy/scratch'), undefined);
    const stale = await host.makeScratchDir('dump');
    await writeFile(join(stale, 'config.toml'), 'x');
    await host.removeStaleTemps([], []);
    assert.equal(await host.lstat('/run/kata-deploy/scratch'), undefined);
  });
});

function runChild(op: object, fault: string) {
  return run(process.execPath, ['--import', 'tsx', HOST_CHILD, JSON.stringify(op)], {
    env: { ...process.env, KATA_DEPLOY_TEST_FAULT: fault },
    allowFail: true,
  });
}

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, copyFile, readdir, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHost, type Host } from './host.js';
import { HostError } from '../errors/index.js';

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

describe('node lock', () => {
  it('excludes a second holder and takes over a stale lock', async () => {
    const lock = await host.lock('/run/lock/kata-deploy.lock', { waitMs: 0 });
    await assert.rejects(
      host.lock('/run/lock/kata-deploy.lock', { waitMs: 100, pollMs: 20 }),
      /holds the node lock/,
    );
    await lock.release();
    await writeFile(host.path('/run/lock/kata-deploy.lock'), '999999999 1\n');
    const again = await host.lock('/run/lock/kata-deploy.lock', { waitMs: 0 });
    assert.match((await host.readText('/run/lock/kata-deploy.lock')) ?? '', new RegExp(`^${process.pid} `));
    await again.release();
    assert.equal(await host.readText('/run/lock/kata-deploy.lock'), undefined);
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
    await svc.stop('svc.service');
    assert.equal(await svc.isActive('svc.service'), false);
    assert.match(await svc.describeFailure('svc.service'), /started\nstarted/);
    assert.equal(await svc.isActive('nothing.service'), false);
    await assert.rejects(svc.start('nothing.service'), /no service spec/);
  });
});

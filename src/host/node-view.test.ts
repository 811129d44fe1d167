import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readlink, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors/index.js';
import type { ServiceManager } from './service/types.js';
import {
  checkedFirst,
  comparePidNamespaces,
  observeNodeView,
  pidNamespaceId,
  requireNodePidNamespace,
  type NodeView,
  type PidNamespaceCheck,
} from './node-view.js';

describe('PID namespaces compared', () => {
  it('reads the inode of a pid:[…] link and nothing else', () => {
    assert.equal(pidNamespaceId('pid:[4026531836]'), '4026531836');
    assert.equal(pidNamespaceId('mnt:[4026531836]'), undefined);
    assert.equal(pidNamespaceId('pid:[]'), undefined);
    assert.equal(pidNamespaceId(' pid:[1]'), undefined);
  });

  it('same, other, or unknown when a link was not read or is not a PID namespace', () => {
    assert.deepEqual(comparePidNamespaces({ link: 'pid:[7]' }, { link: 'pid:[7]' }), {
      verdict: 'same',
      namespace: 'pid:[7]',
    });
    assert.deepEqual(comparePidNamespaces({ link: 'pid:[7]' }, { link: 'pid:[8]' }), {
      verdict: 'other',
      self: 'pid:[7]',
      node: 'pid:[8]',
    });
    const unread = comparePidNamespaces(
      { link: 'pid:[7]' },
      { error: 'cannot read /host/proc/1/ns/pid (EACCES)' },
    );
    assert.equal(unread.verdict, 'unknown');
    assert.match(unread.verdict === 'unknown' ? unread.why : '', /EACCES/);
    assert.equal(comparePidNamespaces({ link: 'net:[7]' }, { link: 'net:[7]' }).verdict, 'unknown');
  });
});

describe('requireNodePidNamespace', () => {
  const node = (pidNamespace: PidNamespaceCheck): NodeView => ({
    kind: 'node',
    proc: '/host/proc',
    pidNamespace,
  });

  it('refuses another PID namespace with exit 2, naming hostPID: true and both namespaces', () => {
    assert.throws(
      () =>
        requireNodePidNamespace(node({ verdict: 'other', self: 'pid:[1]', node: 'pid:[2]' }), 'x needs it'),
      (e: unknown) =>
        e instanceof UsageError &&
        e.exitCode === 2 &&
        /hostPID: true/.test(e.message) &&
        /pid:\[1\].*\/host\/proc.*pid:\[2\]/.test(e.message) &&
        /x needs it/.test(e.message),
    );
  });

  it('refuses when it cannot be told, and says why', () => {
    assert.throws(
      () => requireNodePidNamespace(node({ verdict: 'unknown', why: 'cannot read it (EACCES)' }), 'x'),
      (e: unknown) => e instanceof UsageError && /cannot tell.*EACCES.*hostPID: true/.test(e.message),
    );
  });

  it('lets the same namespace, the node itself and a plain tree through', () => {
    requireNodePidNamespace(node({ verdict: 'same', namespace: 'pid:[1]' }), 'x');
    requireNodePidNamespace({ kind: 'self' }, 'x');
    requireNodePidNamespace({ kind: 'tree' }, 'x');
  });
});

describe('observeNodeView', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kd-nodeview-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('/ is the node itself', () => {
    assert.deepEqual(observeNodeView('/'), { kind: 'self' });
  });

  it('a root without /proc, or with a plain proc directory, is a tree', async () => {
    const bare = join(dir, 'bare');
    await mkdir(join(dir, 'fake/proc/1/ns'), { recursive: true });
    await mkdir(bare);
    assert.deepEqual(observeNodeView(bare), { kind: 'tree' });
    assert.deepEqual(observeNodeView(join(dir, 'fake')), { kind: 'tree' });
  });

  it("a proc file system under the root is the node's /proc, and its PID 1 is compared", async () => {
    const root = join(dir, 'node');
    await mkdir(root);
    await symlink('/proc', join(root, 'proc'));
    const view = observeNodeView(root);
    assert.equal(view.kind, 'node');
    assert.equal(view.kind === 'node' && view.proc, join(root, 'proc'));
    // This machine's PID 1 may not let itself be inspected (a sandboxed init): then the verdict is unknown.
    const pid1 = await readlink('/proc/1/ns/pid').catch(() => undefined);
    const self = await readlink('/proc/self/ns/pid');
    const expected = pid1 === undefined ? 'unknown' : pid1 === self ? 'same' : 'other';
    assert.equal(view.kind === 'node' && view.pidNamespace.verdict, expected, JSON.stringify(view));
    if (expected === 'unknown') assert.match(JSON.stringify(view), /cannot read .*\/proc\/1\/ns\/pid/);
  });
});

describe('checkedFirst', () => {
  it('runs the check before every call of the manager, and a refusal stops the call', async () => {
    const called: string[] = [];
    const manager: ServiceManager = {
      kind: 'systemd',
      restart: async (u) => void called.push(`restart ${u}`),
      stop: async (u) => void called.push(`stop ${u}`),
      start: async (u) => void called.push(`start ${u}`),
      isActive: async (u) => (called.push(`isActive ${u}`), true),
      daemonReload: async () => void called.push('daemonReload'),
      enable: async (u) => void called.push(`enable ${u}`),
      disable: async (u) => void called.push(`disable ${u}`),
      describeFailure: async (u) => (called.push(`describeFailure ${u}`), ''),
    };
    let refuse = false;
    let checks = 0;
    const guarded = checkedFirst(manager, () => {
      checks++;
      if (refuse) throw new UsageError('refused');
    });
    const calls: [string, () => Promise<unknown>][] = [
      ['restart u', () => guarded.restart('u')],
      ['stop u', () => guarded.stop('u')],
      ['start u', () => guarded.start('u')],
      ['isActive u', () => guarded.isActive('u')],
      ['daemonReload', () => guarded.daemonReload()],
      ['enable u', () => guarded.enable!('u')],
      ['disable u', () => guarded.disable!('u')],
      ['describeFailure u', () => guarded.describeFailure('u')],
    ];
    for (const [, call] of calls) await call();
    assert.deepEqual(
      called,
      calls.map(([name]) => name),
    );
    assert.equal(checks, calls.length);
    refuse = true;
    for (const [name, call] of calls) await assert.rejects(call(), UsageError, name);
    assert.equal(called.length, calls.length, 'no refused call reached the manager');
    assert.equal(guarded.kind, 'systemd');
    const bare = checkedFirst({ ...manager, enable: undefined, disable: undefined }, () => undefined);
    assert.equal(bare.enable, undefined);
  });
});

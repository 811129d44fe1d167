import { after, describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  mkdirSync,
  mkdtempSync as mkdtempSyncFs,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors/index.js';
import { parseHostRoot, requireHostRoot, resolveForWrite, resolveInRoot, seenFromHere } from './paths.js';

const made: string[] = [];
const mkdtempSync = (prefix: string) => {
  const dir = mkdtempSyncFs(prefix);
  made.push(dir);
  return dir;
};
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

test('a path containerd reports is looked up under the host root', () => {
  const root = mkdtempSync(join(tmpdir(), 'kd-seen-'));
  mkdirSync(join(root, 'var/lib/containerd'), { recursive: true });
  writeFileSync(join(root, 'var/lib/containerd/meta.db'), '');
  assert.equal(seenFromHere('/var/lib/containerd/meta.db', root), join(root, 'var/lib/containerd/meta.db'));
  assert.equal(seenFromHere('/var/lib/containerd/meta.db', '/'), '/var/lib/containerd/meta.db');
});

test('a path that already lies under the host root (a sandbox node) is taken whole', () => {
  const root = mkdtempSync(join(tmpdir(), 'kd-seen-'));
  const inside = join(root, 'var/lib/containerd/meta.db');
  mkdirSync(join(root, 'var/lib/containerd'), { recursive: true });
  writeFileSync(inside, '');
  assert.equal(seenFromHere(inside, root), inside);
  assert.equal(seenFromHere('/absent/meta.db', root), join(root, 'absent/meta.db'));
});

describe('--host-root', () => {
  it('is / when unset; "" and relative or .. paths are refused, not taken for /', () => {
    assert.deepEqual(parseHostRoot(undefined), { ok: true, value: '/' });
    assert.deepEqual(parseHostRoot('/host//x/'), { ok: true, value: '/host/x' });
    for (const bad of ['', ' ', 'host', './host', '/host/../etc', '/a\nb']) {
      const r = parseHostRoot(bad);
      assert.equal(r.ok, false, JSON.stringify(bad));
      if (!r.ok) assert.match(r.accepted, /absolute path to an existing directory/);
    }
  });

  it('must exist and be a directory: a usage error (exit 2) that creates nothing', () => {
    const parent = mkdtempSync(join(tmpdir(), 'kd-root-'));
    writeFileSync(join(parent, 'file'), 'x');
    for (const [root, why] of [
      [join(parent, 'missing'), /does not exist/],
      [join(parent, 'file'), /is not a directory/],
      [join(parent, 'missing/deeper'), /does not exist/],
    ] as const) {
      assert.throws(
        () => requireHostRoot(root),
        (e: unknown) =>
          e instanceof UsageError && e.exitCode === 2 && why.test(e.message) && e.input === '--host-root',
      );
    }
    assert.deepEqual(readdirSync(parent), ['file']);
    requireHostRoot(parent);
    symlinkSync(parent, join(parent, 'link-to-root'));
    requireHostRoot(join(parent, 'link-to-root'));
  });
});

describe('resolveInRoot: symlinks resolved as the node resolves them', () => {
  const layout = () => {
    const root = mkdtempSync(join(tmpdir(), 'kd-resolve-'));
    const outside = mkdtempSync(join(tmpdir(), 'kd-outside-'));
    mkdirSync(join(root, 'etc/containerd-real'), { recursive: true });
    mkdirSync(join(root, 'run'), { recursive: true });
    return { root, outside };
  };

  it('follows a relative link inside the root', () => {
    const { root } = layout();
    symlinkSync('containerd-real', join(root, 'etc/containerd'));
    const r = resolveInRoot(root, '/etc/containerd/config.toml');
    assert.equal(r.real, join(root, 'etc/containerd-real/config.toml'));
    assert.equal(r.node, '/etc/containerd-real/config.toml');
    assert.equal(r.dangling, undefined);
  });

  it('reads an absolute target as a node path, under the root again', () => {
    const { root, outside } = layout();
    symlinkSync('/etc/containerd-real', join(root, 'etc/containerd'));
    assert.equal(resolveInRoot(root, '/etc/containerd/x').real, join(root, 'etc/containerd-real/x'));
    // A link to a directory outside the root names, on the node, a path under the root: it never leaves.
    symlinkSync(outside, join(root, 'run/lock'));
    const r = resolveInRoot(root, '/run/lock/kata-deploy.lock');
    assert.equal(r.real, join(root, outside, 'kata-deploy.lock'));
    assert.deepEqual(r.dangling, { link: '/run/lock', target: outside });
    assert.throws(() => resolveForWrite(root, '/run/lock/kata-deploy.lock'), UsageError);
  });

  it('stops .. at the root, as /.. is / on the node', () => {
    const { root, outside } = layout();
    symlinkSync(`../../../../../../..${outside}`, join(root, 'etc/containerd'));
    const r = resolveInRoot(root, '/etc/containerd/config.toml');
    assert.ok(r.real.startsWith(`${root}/`), r.real);
    assert.equal(r.real, join(root, outside, 'config.toml'));
    assert.throws(
      () => resolveForWrite(root, '/etc/containerd/config.toml'),
      /is a symlink to .*which does not exist under the host root/,
    );
  });

  it('leaves a link in the last component alone when asked, and refuses loops and files on the way', () => {
    const { root } = layout();
    symlinkSync('/etc/containerd-real', join(root, 'etc/containerd'));
    assert.equal(
      resolveInRoot(root, '/etc/containerd', { followLast: false }).real,
      join(root, 'etc/containerd'),
    );
    assert.equal(resolveForWrite(root, '/etc/containerd'), join(root, 'etc/containerd'));
    symlinkSync('loop', join(root, 'etc/loop'));
    assert.throws(() => resolveInRoot(root, '/etc/loop/x'), /too many levels of symlinks/);
    writeFileSync(join(root, 'etc/file'), '');
    assert.equal(resolveInRoot(root, '/etc/file/x').notDir, '/etc/file');
    assert.throws(() => resolveForWrite(root, '/etc/file/x'), /\/etc\/file is not a directory/);
    assert.equal(resolveInRoot('/', '/etc//').real, '/etc');
  });

  it('seenFromHere does not follow a link out of the root', () => {
    const { root, outside } = layout();
    writeFileSync(join(outside, 'meta.db'), '');
    mkdirSync(join(root, 'var/lib'), { recursive: true });
    symlinkSync(outside, join(root, 'var/lib/containerd'));
    assert.equal(seenFromHere('/var/lib/containerd/meta.db', root), join(root, outside, 'meta.db'));
  });
});

test('a very long --host-root is cut in the error line', () => {
  const long = `/${'x'.repeat(100_000)}`;
  assert.throws(
    () => requireHostRoot(long),
    (e: unknown) =>
      e instanceof UsageError && e.message.length < 400 && /cannot be read \(ENAMETOOLONG\)/.test(e.message),
  );
});

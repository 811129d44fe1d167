import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ExecResult } from './exec.js';
import { decodeMountinfoField, mountPointsUnder, unmountUnder, type MountNamespace } from './mounts.js';

const INFO = [
  '22 1 8:1 / / rw - ext4 /dev/sda1 rw',
  '40 22 0:40 / /var/lib/n rw - tmpfs tmpfs rw',
  '41 40 0:41 / /var/lib/n/snapshots/1/fs rw - overlay overlay rw',
  '42 40 0:42 / /var/lib/n/snapshots/1/fs/deep rw - overlay overlay rw',
  '43 22 0:43 / /var/lib/nx rw - tmpfs tmpfs rw',
  '44 40 0:44 / /var/lib/n/with\\040space rw - tmpfs tmpfs rw',
].join('\n');

/** How the kernel writes a path into mountinfo (fs/proc_namespace.c: mangle " \t\n\\"). */
const mangle = (path: string) =>
  path.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);

describe('mountPointsUnder', () => {
  it('lists mounts strictly below the dir, deepest first, never the dir itself or a sibling prefix', () => {
    assert.deepEqual(mountPointsUnder(INFO, '/var/lib/n'), [
      '/var/lib/n/snapshots/1/fs/deep',
      '/var/lib/n/snapshots/1/fs',
      '/var/lib/n/with space',
    ]);
  });

  it("reads a node's mount table (node paths, every escape the kernel writes, a field 4 with escapes too)", () => {
    const node = [
      '25 1 0:22 / / rw,relatime shared:1 - ext4 /dev/vda1 rw',
      '301 25 0:61 /a\\040b /var/lib/nydus-for-kata-tee/mnt/tab\\011and\\012newline rw - tmpfs t rw',
      '302 25 0:62 / /var/lib/nydus-for-kata-tee/back\\134slash rw,nosuid - fuse.nydusd nydusd rw',
      '303 25 0:63 / /var/lib/nydus-for-kata-tee\\040other/x rw - tmpfs t rw',
    ].join('\n');
    assert.deepEqual(mountPointsUnder(node, '/var/lib/nydus-for-kata-tee'), [
      '/var/lib/nydus-for-kata-tee/mnt/tab\tand\nnewline',
      '/var/lib/nydus-for-kata-tee/back\\slash',
    ]);
  });

  it('decodes what the kernel encodes, for any path (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[^/\0]{1,12}$/), { minLength: 1, maxLength: 5 }), (parts) => {
        const path = `/${parts.join('/')}`;
        assert.equal(decodeMountinfoField(mangle(path)), path);
        const line = `90 25 0:70 / ${mangle(`/d${path}`)} rw - tmpfs t rw`;
        assert.deepEqual(mountPointsUnder(line, '/d'), [`/d${path}`]);
      }),
    );
  });
});

/** A mount namespace in memory: `stuck` mount points never come off. */
function fakeNamespace(points: string[], opts: { stuck?: string[]; unreadable?: boolean } = {}) {
  const mounted = new Set(points);
  const calls: string[] = [];
  const ns: MountNamespace = {
    table: '/fake/1/mountinfo',
    readMountinfo: () =>
      opts.unreadable === true
        ? Promise.reject(Object.assign(new Error('no'), { code: 'EACCES' }))
        : Promise.resolve(
            [...mounted].map((p, i) => `${i + 30} 1 0:${i} / ${mangle(p)} rw - tmpfs t rw`).join('\n'),
          ),
    umount: (args): Promise<ExecResult> => {
      calls.push(args.join(' '));
      const point = args.at(-1)!;
      if (opts.stuck?.includes(point))
        return Promise.resolve({
          code: 32,
          signal: null,
          stdout: '',
          stderr: `umount: ${point}: target is busy.`,
        });
      mounted.delete(point);
      return Promise.resolve({ code: 0, signal: null, stdout: '', stderr: '' });
    },
  };
  return { ns, calls, mounted };
}

describe('unmountUnder', () => {
  it('unmounts deepest first, only below the dir, and reports nothing left', async () => {
    const f = fakeNamespace(['/d', '/d/a', '/d/a/b', '/dx/c']);
    assert.deepEqual(await unmountUnder('/d', f.ns), []);
    assert.deepEqual(f.calls, ['/d/a/b', '/d/a']);
    assert.deepEqual([...f.mounted], ['/d', '/dx/c']);
  });

  it('tries lazily when plain umount fails, and returns what stays with the cause', async () => {
    const f = fakeNamespace(['/d/a', '/d/b'], { stuck: ['/d/b'] });
    assert.deepEqual(await unmountUnder('/d', f.ns), [
      { point: '/d/b', why: 'umount: /d/b: target is busy.' },
    ]);
    assert.deepEqual(f.calls.slice(0, 3), ['/d/b', '-l /d/b', '/d/a']);
  });

  it('a mount table it cannot read is still mounted, never "nothing there"', async () => {
    const f = fakeNamespace(['/d/a'], { unreadable: true });
    assert.deepEqual(await unmountUnder('/d', f.ns), [
      { point: '/d', why: 'cannot read /fake/1/mountinfo (EACCES)' },
    ]);
    assert.deepEqual(f.calls, []);
  });

  it('an umount that cannot run leaves the mount, with why', async () => {
    const f = fakeNamespace(['/d/a']);
    const ns: MountNamespace = {
      ...f.ns,
      umount: () => Promise.reject(new Error('cannot run nsenter: spawn nsenter ENOENT')),
    };
    assert.deepEqual(await unmountUnder('/d', ns), [
      { point: '/d/a', why: 'cannot run nsenter: spawn nsenter ENOENT' },
    ]);
  });
});

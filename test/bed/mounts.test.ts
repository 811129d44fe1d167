import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isUnder, mountsUnderIn, parseMountinfo } from './mounts.js';

const sample = [
  '22 1 0:21 / /proc rw,nosuid - proc proc rw',
  '40 27 0:39 / /tmp/kd-a/state/t/c1/rootfs rw,relatime shared:5 - overlay overlay rw,lowerdir=/x',
  '41 40 0:40 / /tmp/kd-a/state/t/c1/rootfs/dev rw - tmpfs tmpfs rw',
  '42 27 0:41 / /tmp/kd-ab/other rw - tmpfs tmpfs rw',
  '43 27 0:42 / /tmp/kd-a/with\\040space rw - tmpfs none rw',
  '44 27 0:43 / /tmp/kd-a/state/t/c1/rootfs rw - tmpfs over rw',
].join('\n');

test('parseMountinfo reads mount point, type and source, undoing octal escapes', () => {
  const entries = parseMountinfo(sample);
  assert.equal(entries.length, 6);
  assert.deepEqual(entries[1], {
    id: 40,
    parentId: 27,
    mountPoint: '/tmp/kd-a/state/t/c1/rootfs',
    fsType: 'overlay',
    source: 'overlay',
  });
  assert.equal(entries[4]?.mountPoint, '/tmp/kd-a/with space');
  assert.throws(() => parseMountinfo('garbage line'), /cannot parse mountinfo line/);
});

test('mountsUnderIn keeps only the root, deepest and most recent first, never a sibling prefix', () => {
  const order = mountsUnderIn(parseMountinfo(sample), '/tmp/kd-a').map((m) => m.id);
  assert.deepEqual(order, [41, 44, 40, 43]);
  assert.throws(() => mountsUnderIn([], '/'), /refusing/);
});

test('isUnder matches whole path components only (property)', () => {
  const segment = fc.stringMatching(/^[a-z0-9-]{1,8}$/);
  fc.assert(
    fc.property(
      fc.array(segment, { minLength: 1, maxLength: 4 }),
      segment,
      segment,
      (base, extra, suffix) => {
        const root = `/${base.join('/')}`;
        assert.ok(isUnder(root, root));
        assert.ok(isUnder(`${root}/${extra}`, root));
        assert.ok(!isUnder(`${root}${suffix}`, root));
      },
    ),
  );
});

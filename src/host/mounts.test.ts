import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mountPointsUnder } from './mounts.js';

const INFO = [
  '22 1 8:1 / / rw - ext4 /dev/sda1 rw',
  '40 22 0:40 / /var/lib/n rw - tmpfs tmpfs rw',
  '41 40 0:41 / /var/lib/n/snapshots/1/fs rw - overlay overlay rw',
  '42 40 0:42 / /var/lib/n/snapshots/1/fs/deep rw - overlay overlay rw',
  '43 22 0:43 / /var/lib/nx rw - tmpfs tmpfs rw',
  '44 40 0:44 / /var/lib/n/with\\040space rw - tmpfs tmpfs rw',
].join('\n');

describe('mountPointsUnder', () => {
  it('lists mounts strictly below the dir, deepest first, never the dir itself or a sibling prefix', () => {
    assert.deepEqual(mountPointsUnder(INFO, '/var/lib/n'), [
      '/var/lib/n/snapshots/1/fs/deep',
      '/var/lib/n/snapshots/1/fs',
      '/var/lib/n/with space',
    ]);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seenFromHere } from './paths.js';

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

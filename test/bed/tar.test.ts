import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { createTar, readTar } from './tar.js';

test('createTar output is read back by GNU tar with names, types, modes and content intact', () => {
  const archive = createTar([
    { type: 'dir', name: 'bin' },
    { type: 'file', name: 'bin/tool', content: Buffer.from('#!/bin/sh\necho hi\n'), mode: 0o755 },
    { type: 'symlink', name: 'bin/alias', target: 'tool' },
  ]);
  assert.equal(archive.length % 512, 0);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bed-tar-'));
  try {
    const file = path.join(dir, 'a.tar');
    writeFileSync(file, archive);
    const listing = execFileSync('tar', ['-tvf', file], { encoding: 'utf8' });
    assert.match(listing, /^drwxr-xr-x root\/root\s+0 .* bin\/$/m);
    assert.match(listing, /^-rwxr-xr-x root\/root\s+18 .* bin\/tool$/m);
    assert.match(listing, /^lrwxrwxrwx root\/root\s+0 .* bin\/alias -> tool$/m);
    assert.equal(
      execFileSync('tar', ['-xOf', file, 'bin/tool'], { encoding: 'utf8' }),
      '#!/bin/sh\necho hi\n',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('createTar is deterministic and rejects names that do not fit a ustar header', () => {
  const entries = [{ type: 'file' as const, name: 'a', content: Buffer.from('x') }];
  assert.deepEqual(createTar(entries), createTar(entries));
  assert.throws(() => createTar([{ type: 'dir', name: 'd'.repeat(101) }]), /longer than 100 bytes/);
});

test('readTar(createTar(files)) returns the same files (property)', () => {
  const entry = fc.record({
    name: fc.stringMatching(/^[a-z0-9._-]{1,60}$/),
    content: fc.uint8Array({ maxLength: 1500 }),
  });
  fc.assert(
    fc.property(fc.uniqueArray(entry, { selector: (e) => e.name, maxLength: 8 }), (files) => {
      const archive = createTar(
        files.map((f) => ({ type: 'file', name: f.name, content: Buffer.from(f.content) })),
      );
      const back = readTar(archive);
      assert.deepEqual(
        back.map((e) => ({ name: e.name, type: e.type, content: [...e.content] })),
        files.map((f) => ({ name: f.name, type: 'file', content: [...f.content] })),
      );
    }),
  );
});

test('readTar refuses an entry that runs past the end', () => {
  const archive = createTar([{ type: 'file', name: 'big', content: Buffer.alloc(2000) }]);
  assert.throws(() => readTar(archive.subarray(0, 1024)), /runs past the end/);
});

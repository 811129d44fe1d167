import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { walk } from './fs.js';

const root = mkdtempSync(join(tmpdir(), 'kd-walk-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('walk', () => {
  it('lists files, directories and symlinks by path', async () => {
    const dir = join(root, 'plain');
    await mkdir(join(dir, 'bin'), { recursive: true });
    await writeFile(join(dir, 'bin/a'), 'x');
    const entries = await walk(dir);
    assert.deepEqual(
      entries.map((e) => `${e.type}:${e.rel}`),
      ['dir:bin', 'file:bin/a'],
    );
  });

  // Another install, before this one holds the lock, writes temp files and renames them into place: an entry
  // read from the directory may be gone when it is looked at. Gone is not a failure to list.
  it('entries that vanish while it lists (another writer renaming temp files) are skipped, not an error', async () => {
    const dir = join(root, 'busy');
    await mkdir(join(dir, 'bin'), { recursive: true });
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const temp = join(dir, 'bin', `.f${i % 50}.kata-deploy-1-${i}`);
        await writeFile(temp, 'x');
        await rename(temp, join(dir, 'bin', `f${i % 50}`));
        if (i % 7 === 0) await rm(join(dir, 'bin', `sub${i % 3}`), { recursive: true, force: true });
        else await mkdir(join(dir, 'bin', `sub${i % 3}`, 'deep'), { recursive: true });
      }
    })();
    try {
      const deadline = Date.now() + 1500;
      let walks = 0;
      while (Date.now() < deadline) {
        await walk(dir);
        walks++;
      }
      assert.ok(walks > 10, `${walks} walks`);
    } finally {
      writing = false;
      await writer;
    }
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { erofsFindings, parseMkfsErofsVersion, type ErofsHostFacts } from './erofs.js';

const ok = (value: string) => ({ ok: true as const, value });
const host = (over: Partial<ErofsHostFacts> = {}): ErofsHostFacts => ({
  filesystems: ok('nodev\tsysfs\nnodev\toverlay\n\terofs\n'),
  modules: { kernelConfig: new Map([['FS_VERITY', 'y']]) },
  mkfs: { kind: 'found', path: '/usr/bin/mkfs.erofs', output: 'mkfs.erofs (erofs-utils) 1.8.6\n' },
  ...over,
});
const status = (f: ReturnType<typeof erofsFindings>, id: string) => f.find((x) => x.id === id)?.status;

describe('erofs host rules', () => {
  it('pass on a host with erofs, overlay, mkfs.erofs 1.8.6 and fs-verity', () => {
    const f = erofsFindings(host(), { dmverity: false, fsverity: true });
    assert.deepEqual(
      f.map((x) => `${x.id}:${x.status}`),
      ['erofs.kernel:pass', 'erofs.overlay:pass', 'erofs.mkfs:pass', 'erofs.fsverity:pass'],
    );
  });

  it('mkfs.erofs: older than 1.8.2, missing, not running or without a version fails; not run is undecided', () => {
    const old = host({ mkfs: { kind: 'found', path: '/usr/bin/mkfs.erofs', output: 'mkfs.erofs 1.5\n' } });
    assert.equal(status(erofsFindings(old, { dmverity: false, fsverity: false }), 'erofs.mkfs'), 'fail');
    const exact = host({ mkfs: { kind: 'found', path: '/x', output: 'mkfs.erofs (erofs-utils) 1.8.2' } });
    assert.equal(status(erofsFindings(exact, { dmverity: false, fsverity: false }), 'erofs.mkfs'), 'pass');
    for (const mkfs of [
      { kind: 'missing' as const, searched: ['/usr/bin'] },
      { kind: 'failed' as const, path: '/usr/bin/mkfs.erofs', reason: 'GLIBC_2.38 not found' },
      { kind: 'found' as const, path: '/usr/bin/mkfs.erofs', output: 'usage: mkfs.erofs' },
    ])
      assert.equal(
        status(erofsFindings(host({ mkfs }), { dmverity: false, fsverity: false }), 'erofs.mkfs'),
        'fail',
      );
    const notRun = erofsFindings(host({ mkfs: { kind: 'not-run', reason: 'fixture' } }), {
      dmverity: false,
      fsverity: false,
    }).find((x) => x.id === 'erofs.mkfs');
    assert.equal(notRun?.undecided, true);
  });

  it('fs-verity: CONFIG_FS_VERITY not set fails and names EROFS_FSVERITY=off; not asked, not checked', () => {
    const noVerity = host({ modules: { kernelConfig: new Map([['EROFS_FS', 'y']]) } });
    const f = erofsFindings(noVerity, { dmverity: false, fsverity: true });
    assert.equal(status(f, 'erofs.fsverity'), 'fail');
    assert.match(f.find((x) => x.id === 'erofs.fsverity')!.hint!, /EROFS_FSVERITY=off/);
    assert.equal(
      status(erofsFindings(noVerity, { dmverity: false, fsverity: false }), 'erofs.fsverity'),
      undefined,
    );
    const unknown = erofsFindings(host({ modules: {} }), { dmverity: false, fsverity: true });
    assert.equal(unknown.find((x) => x.id === 'erofs.fsverity')?.undecided, true);
  });

  it('dm-verity asked: dm_mod and dm_verity must be in the kernel (this machine has neither)', () => {
    const thisMachine = host({
      modules: { sysfs: new Set(['erofs', 'loop']), kernelConfig: new Map([['MODULES', 'n']]) },
    });
    const f = erofsFindings(thisMachine, { dmverity: true, fsverity: false });
    assert.equal(status(f, 'erofs.dm_mod'), 'fail');
    assert.equal(status(f, 'erofs.dm_verity'), 'fail');
    const loaded = host({ modules: { loaded: new Set(['dm_mod', 'dm_verity']) } });
    const g = erofsFindings(loaded, { dmverity: true, fsverity: false });
    assert.equal(status(g, 'erofs.dm_mod'), 'pass');
    assert.equal(status(g, 'erofs.dm_verity'), 'pass');
  });

  it('erofs missing from /proc/filesystems: a module on disk warns, a kernel without it fails', () => {
    const noErofs = ok('nodev\toverlay\n');
    const onDisk = host({ filesystems: noErofs, modules: { onDisk: new Set(['erofs']) } });
    assert.equal(status(erofsFindings(onDisk, { dmverity: false, fsverity: false }), 'erofs.kernel'), 'warn');
    const none = host({ filesystems: noErofs, modules: { kernelConfig: new Map([['EROFS_FS', 'n']]) } });
    assert.equal(status(erofsFindings(none, { dmverity: false, fsverity: false }), 'erofs.kernel'), 'fail');
  });

  it('parses the version from what mkfs.erofs prints, and never throws', () => {
    assert.deepEqual(
      parseMkfsErofsVersion('mkfs.erofs (erofs-utils) 1.9.4\navailable compressors: lz4'),
      [1, 9, 4],
    );
    assert.deepEqual(parseMkfsErofsVersion('mkfs.erofs 1.8'), [1, 8, 0]);
    fc.assert(
      fc.property(fc.string(), (s) => {
        const v = parseMkfsErofsVersion(s);
        return v === undefined || v.every((n) => Number.isInteger(n) && n >= 0);
      }),
    );
  });
});

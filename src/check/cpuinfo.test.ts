import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { cpuFlags, cpuIdentity, parseCpuInfo, powerGeneration } from './cpuinfo.js';

test('parseCpuInfo keeps only the first CPU block; empty or blank input has no CPU details', () => {
  assert.equal(parseCpuInfo(''), undefined);
  assert.equal(parseCpuInfo('\n \n\t\n'), undefined);
  const info = parseCpuInfo('processor\t: 0\nflags\t\t: a b\n\nprocessor\t: 1\nflags\t\t: c\n');
  assert.equal(info?.fields.get('processor'), '0');
  assert.deepEqual([...cpuFlags(info!, 'amd64')!], ['a', 'b']);
});

test('parseCpuInfo copes with CRLF and leading blank lines', () => {
  const info = parseCpuInfo('\r\n\r\nvendor_id : GenuineIntel\r\nflags : vmx lm\r\n');
  assert.equal(info?.fields.get('vendor_id'), 'GenuineIntel');
  assert.ok(cpuFlags(info!, 'amd64')?.has('lm'));
});

test('flags come from the line of the architecture; ppc64le has none', () => {
  const info = parseCpuInfo('Features\t: fp asimd\nflags : x\nfeatures : sie\n')!;
  assert.deepEqual([...cpuFlags(info, 'arm64')!], ['fp', 'asimd']);
  assert.deepEqual([...cpuFlags(info, 's390x')!], ['sie']);
  assert.deepEqual([...cpuFlags(info, 'amd64')!], ['x']);
  assert.equal(cpuFlags(info, 'ppc64le'), undefined);
  assert.equal(cpuFlags(parseCpuInfo('processor : 0\n')!, 'amd64'), undefined);
});

test('POWER generation is searched in the whole file', () => {
  assert.equal(powerGeneration(parseCpuInfo('processor : 0\n\ncpu : POWER10 (raw)\n')!), 10);
  assert.equal(powerGeneration(parseCpuInfo('cpu : PPC970\n')!), undefined);
});

test('cpuIdentity names the vendor per architecture', () => {
  const x86 = (v: string) => cpuIdentity(parseCpuInfo(`vendor_id : ${v}\nmodel name : X\n`)!, 'amd64').vendor;
  assert.equal(x86('GenuineIntel'), 'intel');
  assert.equal(x86('AuthenticAMD'), 'amd');
  assert.equal(x86('HygonGenuine'), 'hygon');
  assert.equal(x86('CentaurHauls'), 'other');
  assert.equal(cpuIdentity(parseCpuInfo('processor : 0\n')!, 'amd64').vendor, 'unknown');
  assert.equal(cpuIdentity(parseCpuInfo('CPU implementer : 0x41\n')!, 'arm64').vendor, 'arm');
  assert.equal(cpuIdentity(parseCpuInfo('CPU implementer : 0x61\n')!, 'arm64').vendor, 'other');
});

const key = fc
  .stringMatching(/^[A-Za-z][A-Za-z0-9 _#]{0,15}$/)
  .map((k) => k.trim())
  .filter((k) => k.length > 0);
const value = fc.stringMatching(/^[A-Za-z0-9_ .,()=-]{0,40}$/).map((v) => v.trim());

test('property: every key of the first block is found with its first value', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(key, value), { minLength: 1, maxLength: 20 }),
      fc.string(),
      (pairs, rest) => {
        const text = `${pairs.map(([k, v]) => `${k}\t: ${v}`).join('\n')}\n\n${rest}`;
        const info = parseCpuInfo(text);
        assert.ok(info);
        for (const [k] of pairs) {
          const first = pairs.find(([k2]) => k2 === k)?.[1];
          assert.equal(info.fields.get(k), first);
        }
      },
    ),
  );
});

test('property: parsing never throws and flags never contain whitespace', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 500 }), (text) => {
      const info = parseCpuInfo(text);
      if (!info) return;
      for (const arch of ['amd64', 'arm64', 's390x'] as const) {
        for (const f of cpuFlags(info, arch) ?? []) assert.doesNotMatch(f, /\s/);
        cpuIdentity(info, arch);
      }
    }),
  );
});

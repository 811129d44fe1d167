import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { compareSemVer, formatSemVer, newReleaseType, parseSemVer, type SemVer } from './semver.js';

const v = (s: string): SemVer => {
  const parsed = parseSemVer(s);
  assert.ok(parsed, s);
  return parsed;
};

test('parseSemVer accepts semver with an optional v, and rejects the rest', () => {
  assert.deepEqual(v('3.2.0'), { major: 3, minor: 2, patch: 0, pre: [] });
  assert.deepEqual(v('v3.2.0-rc.1+build.5'), { major: 3, minor: 2, patch: 0, pre: ['rc', 1] });
  for (const bad of ['', '3', '3.2', '03.2.0', '3.2.0-', '3.2.0-01', 'latest', '3.2.0.1', ' 1.2.x']) {
    assert.equal(parseSemVer(bad), undefined, bad);
  }
});

test('precedence follows semver.org (pre-releases sort before the release; numeric < alphanumeric)', () => {
  const order = [
    '1.0.0-alpha',
    '1.0.0-alpha.1',
    '1.0.0-alpha.beta',
    '1.0.0-beta',
    '1.0.0-beta.2',
    '1.0.0-beta.11',
    '1.0.0-rc.1',
    '1.0.0',
    '1.0.1',
    '1.1.0',
    '2.0.0',
  ];
  for (let i = 0; i + 1 < order.length; i++) {
    assert.ok(compareSemVer(v(order[i]!), v(order[i + 1]!)) < 0, `${order[i]} < ${order[i + 1]}`);
  }
  assert.equal(compareSemVer(v('1.0.0+a'), v('1.0.0+b')), 0, 'build metadata is ignored');
});

test('newReleaseType matches upstream getNewReleaseType', () => {
  const cases: [string, string, string | undefined][] = [
    ['1.0.0', '2.0.0', 'major'],
    ['1.0.0', '2.0.0-rc0', 'major pre-release'],
    ['1.0.0', '1.1.0', 'minor'],
    ['1.0.0', '1.1.0-alpha', 'minor pre-release'],
    ['1.0.0', '1.0.1', 'patch'],
    ['1.0.0', '1.0.1-rc1', 'patch pre-release'],
    ['1.0.0-rc0', '1.0.0-rc1', 'pre-release'],
    ['1.0.0-rc0', '1.0.0', ''],
    ['1.0.0', '1.0.0', undefined],
    ['2.0.0', '1.9.9', undefined],
    ['1.2.3', '1.2.3+build', undefined],
  ];
  for (const [current, latest, expected] of cases) {
    assert.equal(newReleaseType(v(current), v(latest)), expected, `${current} → ${latest}`);
  }
});

const semverArb = fc.record({
  major: fc.nat(50),
  minor: fc.nat(50),
  patch: fc.nat(50),
  pre: fc.array(fc.oneof(fc.nat(20), fc.constantFrom('alpha', 'beta', 'rc', 'x-1')), { maxLength: 3 }),
});

test('property: format and parse round-trip', () => {
  fc.assert(
    fc.property(semverArb, (s) => assert.deepEqual(parseSemVer(formatSemVer(s)), { ...s, pre: [...s.pre] })),
  );
});

test('property: comparison is antisymmetric and agrees with newReleaseType', () => {
  fc.assert(
    fc.property(semverArb, semverArb, (a, b) => {
      assert.equal(Math.sign(compareSemVer(a, b)), -Math.sign(compareSemVer(b, a)));
      assert.equal(newReleaseType(a, b) !== undefined, compareSemVer(b, a) > 0);
    }),
  );
});

test('property: parseSemVer never throws', () => {
  fc.assert(fc.property(fc.string(), (s) => void parseSemVer(s)));
});

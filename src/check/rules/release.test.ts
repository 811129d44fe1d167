import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Release } from '../types.js';
import { releaseRule } from './release.js';

const rel = (tag: string, extra: Partial<Release> = {}): Release => ({
  tag,
  prerelease: false,
  draft: false,
  url: `https://github.com/kata-containers/kata-containers/releases/tag/${tag}`,
  date: '2025-01-01',
  ...extra,
});

test('the newest release wins regardless of the order the API lists them in', () => {
  const f = releaseRule(
    { kind: 'ok', releases: [rel('3.19.0'), rel('4.0.0'), rel('3.21.0')] },
    '3.20.0',
    false,
  );
  assert.equal(f.status, 'warn');
  assert.match(f.message, /^Newer major release available: 4\.0\.0 \(url: .*4\.0\.0, date: 2025-01-01\)$/);
  assert.match(f.hint ?? '', /bundles Kata Containers 3\.20\.0/);
});

test('pre-releases and drafts are ignored unless asked for; tags that are not semver are skipped', () => {
  const releases = [
    rel('3.20.0'),
    rel('3.21.0-rc0', { prerelease: true }),
    rel('4.0.0', { draft: true }),
    rel('nightly'),
  ];
  assert.equal(releaseRule({ kind: 'ok', releases }, '3.20.0', false).status, 'pass');
  assert.match(
    releaseRule({ kind: 'ok', releases }, '3.20.0', true).message,
    /^Newer minor pre-release available/,
  );
  assert.equal(releaseRule({ kind: 'ok', releases: [rel('v3.21.0')] }, '3.20.0', false).status, 'warn');
});

test('no releases, no newer release, an older bundled pre-release', () => {
  assert.equal(releaseRule({ kind: 'ok', releases: [] }, '3.20.0', false).message, 'No releases available');
  assert.match(
    releaseRule({ kind: 'ok', releases: [rel('3.1.0')] }, '3.20.0', false).message,
    /^No newer release/,
  );
  assert.match(
    releaseRule({ kind: 'ok', releases: [rel('3.20.0')] }, '3.20.0-rc1', false).message,
    /^Newer release available: 3\.20\.0/,
  );
});

test('network problems are WARNs; a skipped check is SKIP; nothing here can FAIL', () => {
  assert.equal(releaseRule({ kind: 'error', message: 'ENOTFOUND' }, '3.20.0', false).status, 'warn');
  assert.equal(releaseRule({ kind: 'rate-limited' }, '3.20.0', false).status, 'warn');
  assert.equal(
    releaseRule({ kind: 'skipped', reason: 'KATA_CHECK_NO_NETWORK is set' }, '3.20.0', false).status,
    'skip',
  );
  assert.equal(releaseRule({ kind: 'ok', releases: [] }, 'not-a-version', false).status, 'warn');
});

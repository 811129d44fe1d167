import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { finding, withTree } from '../../test/fixtures/host/tree.js';
import { FIXTURE_PAYLOAD } from '../../test/support/component-payload.js';
import { fixtureHostFacts } from './host.js';
import { kataReleaseOf, readBaseline } from './release-baseline.js';
import { runCheck, versionsYamlCandidates } from './run.js';

test('versions.yaml: the release is kata-containers → version, in the file’s own entry format', () => {
  assert.equal(kataReleaseOf('kata-containers:\n  description: "x"\n  version: "3.21.0"\n'), '3.21.0');
  assert.equal(kataReleaseOf("---\nkata-containers:\n  version: '3.22.0-rc0' # next\n"), '3.22.0-rc0');
  // Upstream's file: components' versions only; a nested kata-containers entry is not the release.
  const upstream =
    'assets:\n  kernel:\n    version: "v6.18.5"\nexternals:\n  kata-containers:\n    version: "9.9.9"\n' +
    'languages:\n  golang:\n    version: "1.24.13"\n';
  assert.equal(kataReleaseOf(upstream), undefined);
  assert.equal(kataReleaseOf('kata-containers:\n  meta:\n    version: "1"\n'), undefined);
});

test('the baseline is the first candidate that names the release; why not, for the others', async () => {
  const files: Record<string, string> = {
    '/b': 'kata-containers:\n  version: "3.20.1"\n',
    '/a': 'assets: {}\n',
  };
  const read = async (p: string) => {
    if (files[p] === undefined) throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
    return files[p];
  };
  assert.deepEqual(await readBaseline(['/missing', '/a', '/b'], read), {
    kind: 'known',
    version: '3.20.1',
    source: '/b',
  });
  const unknown = await readBaseline(['/missing', '/a'], read);
  assert.deepEqual(unknown, {
    kind: 'unknown',
    reasons: [
      '/missing does not exist',
      '/a names no Kata Containers release (no kata-containers: version: entry)',
    ],
  });
  assert.deepEqual(versionsYamlCandidates('/'), [
    '/opt/kata-artifacts/versions.yaml',
    '/opt/kata/versions.yaml',
  ]);
  assert.deepEqual(versionsYamlCandidates('/tmp/t'), ['/tmp/t/opt/kata/versions.yaml']);
});

test('the release check compares with the installed versions.yaml, and says so when it cannot read one', () =>
  withTree('intel-bare-metal', async (tree) => {
    const none = await runCheck(fixtureHostFacts(tree.root));
    const unknown = finding(none, 'release');
    assert.equal(unknown.status, 'warn');
    assert.match(unknown.message, /the release kata-deploy installs is not known/);
    assert.match(unknown.hint ?? '', /opt\/kata\/versions\.yaml does not exist/);
    assert.equal(none.verdict, 'capable', 'a warning never fails a capable host');
    tree.write('/opt/kata/versions.yaml', 'kata-containers:\n  version: "3.19.1"\n');
    const read = await runCheck(fixtureHostFacts(tree.root));
    assert.match(finding(read, 'release').message, /^Newer minor release available: 3\.20\.0/);
    // The test payload's versions.yaml names its (made-up) release.
    tree.write(
      '/opt/kata/versions.yaml',
      await readFile(`${FIXTURE_PAYLOAD}/opt/kata/versions.yaml`, 'utf8'),
    );
    const payload = await runCheck(fixtureHostFacts(tree.root));
    assert.match(
      finding(payload, 'release').message,
      /No newer release available \(kata-deploy bundles Kata Containers 3\.99\.0-test\)/,
    );
  }));

/**
 * The test API server speaks the protocol: the real kubectl (1.32 on the machine image) discovers it, gets,
 * labels and patches a node through it with merge, strategic and JSON patches, honours resourceVersion
 * preconditions, and reads its 401/403/409 answers as it reads a real apiserver's.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { KubeApiDouble } from './api-double.js';
import { kubectlBinary } from '../bed/index.js';

let api: KubeApiDouble;
let dir: string;
let kubeconfig: string;

/** kubectl run asynchronously: the server answers from this very process. */
function kubectlWith(
  config: string,
  ...args: string[]
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      kubectlBinary(),
      ['--kubeconfig', config, '--cache-dir', join(dir, 'cache'), '--request-timeout', '10s', ...args],
      { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir }, encoding: 'utf8', timeout: 30_000 },
      (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : typeof error.code === 'number' ? error.code : null,
          stdout,
          stderr,
        }),
    );
  });
}
const kubectl = (...args: string[]) => kubectlWith(kubeconfig, ...args);

before(async () => {
  dir = mkdtempSync('/tmp/kd-kubectl-');
  api = await KubeApiDouble.start();
  api.addToken('good-token', 'system:serviceaccount:kube-system:kata-deploy');
  api.addNode('n1', { zone: 'a' }, [{ key: 'kata/startup', effect: 'NoSchedule' }]);
  api.addDaemonSet('kube-system', 'kata-deploy');
  kubeconfig = api.writeKubeconfig(dir, 'good-token');
});
after(async () => {
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('kubectl against KubeApiDouble', () => {
  it('gets a node and a DaemonSet', async () => {
    const r = await kubectl('get', 'node', 'n1', '-o', 'jsonpath={.metadata.labels.zone}');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'a');
    const ds = await kubectl(
      '-n',
      'kube-system',
      'get',
      'daemonset',
      'kata-deploy',
      '-o',
      'jsonpath={.metadata.uid}',
    );
    assert.equal(ds.code, 0, ds.stderr);
    assert.equal(ds.stdout, 'uid-ds-kube-system-kata-deploy');
  });

  it('labels a node (merge patch), overwrites and removes a label, other labels untouched', async () => {
    assert.equal((await kubectl('label', 'node', 'n1', 'katacontainers.io/kata-runtime=false')).code, 0);
    assert.equal(api.labels('n1')['katacontainers.io/kata-runtime'], 'false');
    const clash = await kubectl('label', 'node', 'n1', 'katacontainers.io/kata-runtime=true');
    assert.notEqual(clash.code, 0, 'kubectl refuses to overwrite without --overwrite');
    assert.equal(
      (await kubectl('label', 'node', 'n1', '--overwrite', 'katacontainers.io/kata-runtime=true')).code,
      0,
    );
    assert.equal(api.labels('n1')['katacontainers.io/kata-runtime'], 'true');
    assert.equal((await kubectl('label', 'node', 'n1', 'katacontainers.io/kata-runtime-')).code, 0);
    const labels = api.labels('n1');
    assert.equal(labels['katacontainers.io/kata-runtime'], undefined);
    assert.equal(labels['zone'], 'a');
    const patches = api.requests.filter((r) => r.verb === 'patch');
    assert.ok(patches.length >= 3);
    assert.ok(
      patches.every((p) => p.contentType === 'application/merge-patch+json'),
      JSON.stringify(patches),
    );
  });

  it('a label with a stale --resource-version gets 409 Conflict', async () => {
    const rv = (await kubectl('get', 'node', 'n1', '-o', 'jsonpath={.metadata.resourceVersion}')).stdout;
    api.mutateNode(
      'n1',
      (n) => ((n['metadata'] as Record<string, unknown>)['annotations'] = { touched: 'yes' }),
    );
    const r = await kubectl('label', 'node', 'n1', '--resource-version', rv, 'late=1');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /the object has been modified/);
    assert.equal(api.labels('n1')['late'], undefined);
  });

  it('patches taints with merge, strategic and JSON patch (a failed test op is 422)', async () => {
    const merge = await kubectl(
      'patch',
      'node',
      'n1',
      '--type',
      'merge',
      '-p',
      '{"spec":{"taints":[{"key":"a","effect":"NoSchedule"}]}}',
    );
    assert.equal(merge.code, 0, merge.stderr);
    assert.deepEqual((api.node('n1')!['spec'] as { taints: unknown }).taints, [
      { key: 'a', effect: 'NoSchedule' },
    ]);
    const strategic = await kubectl('patch', 'node', 'n1', '-p', '{"metadata":{"labels":{"s":"1"}}}');
    assert.equal(strategic.code, 0, strategic.stderr);
    assert.equal(api.labels('n1')['s'], '1');
    const rv = (await kubectl('get', 'node', 'n1', '-o', 'jsonpath={.metadata.resourceVersion}')).stdout;
    const jsonPatch = (...ops: object[]) =>
      kubectl(
        'patch',
        'node',
        'n1',
        '--type',
        'json',
        '-p',
        JSON.stringify([{ op: 'test', path: '/metadata/resourceVersion', value: rv }, ...ops]),
      );
    const json = await jsonPatch({ op: 'remove', path: '/spec/taints' });
    assert.equal(json.code, 0, json.stderr);
    assert.equal((api.node('n1')!['spec'] as { taints?: unknown }).taints, undefined);
    const stale = await jsonPatch({ op: 'add', path: '/metadata/labels/x', value: 'y' });
    assert.notEqual(stale.code, 0);
    assert.match(stale.stderr, /nodes "n1" is invalid/);
    assert.equal(api.requests.at(-1)?.status, 422);
  });

  it('answers an unknown token with 401 and a denied verb with 403, as kubectl reports them', async () => {
    const other = api.writeKubeconfig(mkdtempSync(join(dir, 'bad-')), 'no-such-token');
    const r = await kubectlWith(other, 'get', 'node', 'n1');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Unauthorized|provide credentials/);
    api.deny('patch', 'nodes');
    const denied = await kubectl('label', 'node', 'n1', 'blocked=1');
    api.allowAll();
    assert.notEqual(denied.code, 0);
    assert.match(
      denied.stderr,
      /nodes "n1" is forbidden: User "system:serviceaccount:kube-system:kata-deploy" cannot patch resource "nodes"/,
    );
    assert.equal(api.labels('n1')['blocked'], undefined);
  });

  it('records the label timeline', async () => {
    const kata = api.timeline
      .filter((e) => e.node === 'n1')
      .map((e) => e.labels['katacontainers.io/kata-runtime'] ?? '-');
    assert.deepEqual(kata, ['-', 'false', 'true', '-']);
  });
});

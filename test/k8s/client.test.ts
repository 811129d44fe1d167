/**
 * The client layer (src/k8s/client.ts, @kubernetes/client-node) against the test API server: in-cluster from
 * the service-account files (the token read again after a minute, as the kubelet rotates it) and from a
 * kubeconfig; merge patches that keep a concurrent writer's labels; a stale resourceVersion as 409; 401/403 as
 * exit-2 errors naming the verb and resource; a slow answer cut by the call's deadline; 5xx retried.
 */
import { after, before, describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectKubeApi } from '../../src/k8s/client.js';
import { KubeApiError, KubeDeniedError } from '../../src/k8s/errors.js';
import { withRetries } from '../../src/k8s/retry.js';
import { silentLogger } from '../../src/output/log.js';
import { KubeApiDouble } from './api-double.js';

let api: KubeApiDouble;
let dir: string;
const USER = 'system:serviceaccount:kube-system:kata-deploy';

before(async () => {
  dir = mkdtempSync('/tmp/kd-client-');
  api = await KubeApiDouble.start();
  api.addToken('t1', USER);
  api.addNode('n1', { team: 'x' });
  api.addDaemonSet('kube-system', 'kata-deploy');
  api.writeServiceAccount(dir, 't1', 'kube-system');
});
after(async () => {
  await api.stop();
  rmSync(dir, { recursive: true, force: true });
});

const inCluster = (timeoutMs = 2000) =>
  connectKubeApi({
    kubeconfig: undefined,
    env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(api.port) },
    serviceAccountPrefix: dir,
    namespace: undefined,
    callTimeoutMs: timeoutMs,
  });

describe('the Kubernetes client against KubeApiDouble', () => {
  it('connects in-cluster: server, namespace and CA from the service account', async () => {
    const k = inCluster();
    assert.equal(k.server, api.url);
    assert.equal(k.namespace, 'kube-system');
    const node = await k.readNode('n1');
    assert.equal(node.labels['team'], 'x');
    assert.equal(node.ready, 'True');
    assert.equal(node.runtimeHandlers, undefined, 'not reported by this node: unknown');
    const ds = await k.readDaemonSet('kube-system', 'kata-deploy');
    assert.equal(ds?.uid, 'uid-ds-kube-system-kata-deploy');
    assert.equal(await k.readDaemonSet('kube-system', 'gone'), undefined);
  });

  it('connects with a kubeconfig', async () => {
    const file = api.writeKubeconfig(mkdtempSync(join(dir, 'kc-')), 't1');
    const k = connectKubeApi({ kubeconfig: file, env: {}, namespace: undefined, callTimeoutMs: 2000 });
    assert.equal(k.namespace, 'kube-system');
    assert.equal((await k.readNode('n1')).name, 'n1');
  });

  it('refuses to start without an API to talk to (exit 2)', () => {
    assert.throws(
      () => connectKubeApi({ kubeconfig: undefined, env: {}, namespace: undefined, callTimeoutMs: 1000 }),
      (e: unknown) => e instanceof KubeDeniedError === false && (e as { exitCode: number }).exitCode === 2,
    );
  });

  it('patches labels by merge patch: a concurrent writer keeps its label; a stale resourceVersion is 409', async () => {
    const k = inCluster();
    const read = await k.readNode('n1');
    api.mutateNode(
      'n1',
      (n) => ((n['metadata'] as { labels: Record<string, string> }).labels['other'] = 'writer'),
    );
    await assert.rejects(
      k.patchNodeLabels('n1', { mine: 'a' }, read.resourceVersion),
      (e: unknown) => e instanceof KubeApiError && e.conflict,
    );
    const after = await k.patchNodeLabels('n1', { mine: 'a' });
    assert.equal(after.labels['other'], 'writer');
    assert.equal(after.labels['mine'], 'a');
    assert.equal(api.requests.at(-1)?.contentType, 'application/merge-patch+json');
    const removed = await k.patchNodeLabels('n1', { mine: null }, after.resourceVersion);
    assert.equal(removed.labels['mine'], undefined);
  });

  it('replaces taints on the read resourceVersion', async () => {
    const k = inCluster();
    api.mutateNode(
      'n1',
      (n) =>
        ((n['spec'] as Record<string, unknown>)['taints'] = [
          { key: 'a', effect: 'NoSchedule', timeAdded: '2026-12-01T00:00:00Z' },
          { key: 'b', effect: 'NoExecute' },
        ]),
    );
    const node = await k.readNode('n1');
    assert.deepEqual(node.taints[0], { key: 'a', effect: 'NoSchedule', timeAdded: '2026-12-01T00:00:00Z' });
    const done = await k.replaceNodeTaints('n1', node.taints.slice(0, 1), node.resourceVersion);
    assert.deepEqual(
      done.taints.map((t) => t.key),
      ['a'],
    );
    await assert.rejects(
      k.replaceNodeTaints('n1', [], node.resourceVersion),
      (e: unknown) => e instanceof KubeApiError && e.conflict,
    );
  });

  it('maps 403 and 401 to exit-2 errors that name the verb and resource', async () => {
    const k = inCluster();
    api.deny('patch', 'nodes');
    try {
      await assert.rejects(k.patchNodeLabels('n1', { x: '1' }), (e: unknown) => {
        assert.ok(e instanceof KubeDeniedError);
        assert.equal(e.exitCode, 2);
        assert.match(
          e.message,
          /^RBAC denied patch nodes\/n1: the service account may not "patch" nodes \(403 Forbidden: nodes "n1" is forbidden: User "system:serviceaccount:kube-system:kata-deploy" cannot patch resource "nodes"/,
        );
        return true;
      });
    } finally {
      api.allowAll();
    }
    api.deny('get', 'daemonsets');
    try {
      await assert.rejects(
        k.readDaemonSet('kube-system', 'kata-deploy'),
        /RBAC denied get daemonsets\/kata-deploy in namespace kube-system/,
      );
    } finally {
      api.allowAll();
    }
    api.removeToken('t1');
    try {
      await assert.rejects(
        k.readNode('n1'),
        (e: unknown) => e instanceof KubeDeniedError && /401 Unauthorized/.test(e.message),
      );
    } finally {
      api.addToken('t1', USER);
    }
  });

  it('reads the rotated token again after a minute', async () => {
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    try {
      const k = inCluster();
      await k.readNode('n1');
      writeFileSync(join(dir, 'var/run/secrets/kubernetes.io/serviceaccount/token'), 't2');
      api.addToken('t2', USER);
      api.removeToken('t1');
      await assert.rejects(k.readNode('n1'), KubeDeniedError, 'the old token is used within the minute');
      mock.timers.tick(61_000);
      assert.equal((await k.readNode('n1')).name, 'n1');
    } finally {
      mock.timers.reset();
      api.addToken('t1', USER);
      writeFileSync(join(dir, 'var/run/secrets/kubernetes.io/serviceaccount/token'), 't1');
    }
  });

  it('cuts a slow answer at the deadline, and retries 500 and timeouts', async () => {
    const k = inCluster(300);
    api.inject({ verb: 'get', resource: 'nodes', delayMs: 1000 });
    const started = Date.now();
    await assert.rejects(
      k.readNode('n1'),
      (e: unknown) => e instanceof KubeApiError && e.transient && e.failure.reason === 'Timeout',
    );
    assert.ok(Date.now() - started < 900, 'the deadline, not the server, ended the call');
    api.inject({ verb: 'get', resource: 'nodes', code: 500 });
    api.inject({ verb: 'get', resource: 'nodes', delayMs: 1000 });
    const node = await withRetries(
      () => k.readNode('n1'),
      { budgetMs: 10_000, firstDelayMs: 10, maxDelayMs: 100 },
      { log: silentLogger },
    );
    assert.equal(node.name, 'n1');
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadDaemonSetSettings } from './daemonset.js';

describe('DaemonSet settings', () => {
  it("defaults to upstream's values", () => {
    const s = loadDaemonSetSettings({}, {});
    assert.equal(s.healthPort, 8090);
    assert.equal(s.daemonSetName, 'kata-deploy');
    assert.equal(s.podNamespace, undefined);
    assert.deepEqual(s.startupTaints, []);
    assert.equal(s.kubeconfig, undefined);
    assert.equal(s.terminationLog, '/dev/termination-log');
    assert.equal(s.timeScale, 1);
  });

  it('reads the variables and flags; --kubeconfig wins over KUBECONFIG, whose first file is used', () => {
    const s = loadDaemonSetSettings(
      {
        HEALTH_PORT: '9000',
        DAEMONSET_NAME: 'kata-deploy-coco',
        POD_NAMESPACE: 'kata-system',
        STARTUP_TAINTS: 'kata/not-ready:NoSchedule',
        KUBECONFIG: '/etc/a:/etc/b',
      },
      { terminationLog: '/tmp/x/log' },
    );
    assert.equal(s.healthPort, 9000);
    assert.equal(s.daemonSetName, 'kata-deploy-coco');
    assert.equal(s.podNamespace, 'kata-system');
    assert.deepEqual(s.startupTaints, [{ key: 'kata/not-ready', effect: 'NoSchedule' }]);
    assert.equal(s.kubeconfig, '/etc/a');
    assert.equal(s.terminationLog, '/tmp/x/log');
    assert.equal(loadDaemonSetSettings({ KUBECONFIG: '/etc/a' }, { kubeconfig: '/k' }).kubeconfig, '/k');
  });

  it('refuses bad values with exit 2, naming each', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ HEALTH_PORT: '65536' }, /^HEALTH_PORT="65536" is not valid: expected a TCP port/],
      [{ DAEMONSET_NAME: 'Kata_Deploy' }, /^DAEMONSET_NAME="Kata_Deploy" is not valid/],
      [{ POD_NAMESPACE: 'a.b' }, /^POD_NAMESPACE="a.b" is not valid/],
      [{ STARTUP_TAINTS: 'x:Never' }, /^STARTUP_TAINTS="x:Never" is not valid/],
      [
        { KUBECONFIG: 'relative/file' },
        /^KUBECONFIG="relative\/file" is not valid: expected an absolute path/,
      ],
      [{ KATA_DEPLOY_TEST_TIME_SCALE: '2' }, /^KATA_DEPLOY_TEST_TIME_SCALE="2" is not valid/],
    ];
    for (const [env, message] of cases) {
      assert.throws(
        () => loadDaemonSetSettings(env, {}),
        (e: unknown) => (e as { exitCode: number }).exitCode === 2 && message.test((e as Error).message),
        JSON.stringify(env),
      );
    }
  });
});

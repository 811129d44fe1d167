import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planPodRun, PodNotTranslatable, type PodContext } from './pod-plan.js';

const CTX: PodContext = {
  nodeName: 'n1',
  namespace: 'kube-system',
  serviceAccountDir: '/var/lib/kubelet/pods/u/sa',
  terminationLog: '/var/lib/kubelet/pods/u/tl',
  capabilitiesNotHeld: ['CAP_SYS_RESOURCE'],
  apiHost: '127.0.0.1',
  apiPort: 6443,
};

const probe = (path: string) => ({ httpGet: { path, port: 8090 }, periodSeconds: 10 });

function daemonSet(pod: Record<string, unknown> = {}, container: Record<string, unknown> = {}) {
  return {
    metadata: { name: 'kata-deploy', namespace: 'kube-system' },
    spec: {
      template: {
        spec: {
          hostPID: true,
          hostNetwork: true,
          tolerations: [{ operator: 'Exists' }],
          volumes: [{ name: 'host-root', hostPath: { path: '/', type: 'Directory' } }],
          containers: [
            {
              name: 'kata-deploy',
              image: 'kata-deploy:0.1.0',
              command: ['/usr/bin/node', '/cli.js'],
              args: ['install', '--daemonset'],
              env: [
                { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                { name: 'HEALTH_PORT', value: '8090' },
              ],
              securityContext: { privileged: true, readOnlyRootFilesystem: true },
              volumeMounts: [{ name: 'host-root', mountPath: '/host', mountPropagation: 'HostToContainer' }],
              startupProbe: probe('/readyz'),
              readinessProbe: probe('/readyz'),
              livenessProbe: probe('/healthz'),
              ...container,
            },
          ],
          ...pod,
        },
      },
    },
  };
}

describe('planPodRun', () => {
  it('refuses pod annotations (they can change the pod: AppArmor, seccomp)', () => {
    const ds = daemonSet();
    (ds.spec.template as Record<string, unknown>)['metadata'] = {
      labels: { a: 'b' },
      annotations: { x: 'y' },
    };
    assert.throws(() => planPodRun(ds, CTX), PodNotTranslatable);
    (ds.spec.template as Record<string, unknown>)['metadata'] = { labels: { a: 'b' } };
    assert.doesNotThrow(() => planPodRun(ds, CTX));
  });

  it('translates namespaces, privileges, mounts, downward-API env and the process', () => {
    const plan = planPodRun(daemonSet(), CTX);
    assert.deepEqual(plan.argv, ['/usr/bin/node', '/cli.js', 'install', '--daemonset']);
    const flags = plan.flags.join(' ');
    assert.match(
      flags,
      /--net-host --with-ns pid:\/proc\/1\/ns\/pid --privileged --cap-drop CAP_SYS_RESOURCE --read-only/,
    );
    assert.match(flags, /--mount type=bind,src=\/,dst=\/host,options=rbind:rslave:rw/);
    assert.match(flags, /dst=\/var\/run\/secrets\/kubernetes.io\/serviceaccount,options=rbind:ro/);
    assert.equal(plan.env['NODE_NAME'], 'n1');
    assert.equal(plan.env['KUBERNETES_SERVICE_PORT'], '6443');
    assert.deepEqual(plan.readinessProbe, {
      path: '/readyz',
      port: 8090,
      periodSeconds: 10,
      failureThreshold: 3,
    });
  });

  it('without hostPID the pod keeps its own PID namespace; without privileged no capability flags', () => {
    const flags = planPodRun(daemonSet({ hostPID: false }, { securityContext: {} }), CTX).flags.join(' ');
    assert.doesNotMatch(flags, /--with-ns|--privileged|--cap-drop|--read-only/);
  });

  for (const [what, pod, container] of [
    ['an unknown pod field', { hostIPC: true }, {}],
    ['an init container', { initContainers: [] }, {}],
    ['an unknown container field', {}, { workingDir: '/x' }],
    ['a capability list', {}, { securityContext: { capabilities: { add: ['NET_ADMIN'] } } }],
    [
      'an env from a secret',
      {},
      { env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] },
    ],
    ['a pod network', { hostNetwork: false }, {}],
    ['no command (the image entrypoint would stay)', {}, { command: undefined }],
    ['a named probe port', {}, { readinessProbe: { httpGet: { path: '/readyz', port: 'health' } } }],
    ['a memory limit', {}, { resources: { limits: { memory: '1Gi' } } }],
    ['an https probe', {}, { livenessProbe: { httpGet: { path: '/healthz', port: 8090, scheme: 'HTTPS' } } }],
    ['an exec probe', {}, { startupProbe: { exec: { command: ['true'] } } }],
    ['a hostPath socket', { volumes: [{ name: 'host-root', hostPath: { path: '/', type: 'Socket' } }] }, {}],
  ] as const)
    it(`refuses ${what}`, () => {
      assert.throws(() => planPodRun(daemonSet(pod, container), CTX), PodNotTranslatable);
    });
});

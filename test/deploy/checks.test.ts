/**
 * The checks of manifests.test.ts shown to fail: the schema validation on a typo'd field, a wrong type and an
 * unknown kind, and each invariant on a rendering changed the way an edit of deploy/ could change it.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { CHECKS, type Expected } from './invariants.js';
import { render, type K8sObject } from './render.js';
import { validateObject } from './schema.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- mutations reach into rendered objects by path */

let base: K8sObject[] = [];
before(() => {
  base = render({ dir: 'deploy/base' });
});
const BASE: Expected = { distribution: undefined, suffix: undefined, snapshotters: [] };

function mutated(change: (objects: any[]) => void): K8sObject[] {
  const copy = structuredClone(base) as any[];
  change(copy);
  return copy;
}
const kind = (objects: any[], k: string) => objects.find((o) => o.kind === k);
const ctr = (objects: any[]) => kind(objects, 'DaemonSet').spec.template.spec.containers[0];
const env = (objects: any[], name: string) => ctr(objects).env.find((e: any) => e.name === name);

describe('schema validation refuses', () => {
  it('accepts the rendered base (the control)', async () => {
    for (const o of base) await validateObject(o);
  });

  const cases: [string, (objects: any[]) => void, RegExp][] = [
    [
      'a typo in a container field (imagee)',
      (o) => (ctr(o).imagee = 'kata-deploy:0.1.0'),
      /containers\[0\]\.imagee/,
    ],
    [
      'a string containerPort',
      (o) => (ctr(o).ports[0].containerPort = '8090'),
      /containerPort must be integer/,
    ],
    [
      'a typo deep in the pod (securityContex)',
      (o) => (ctr(o).securityContex = { privileged: true }),
      /securityContex\b/,
    ],
    ['an unknown top-level field', (o) => (kind(o, 'RuntimeClass').overheads = {}), /overheads/],
    ['a bad quantity', (o) => (kind(o, 'RuntimeClass').overhead.podFixed.memory = '320 MB'), /podFixed/],
    [
      'a misspelt enum-like field type',
      (o) => (kind(o, 'DaemonSet').spec.template.spec.hostPID = 'yes'),
      /hostPID/,
    ],
    [
      'an unknown kind',
      (o) => (kind(o, 'ServiceAccount').kind = 'ServiceAcount'),
      /unknown kind ServiceAcount/,
    ],
    [
      'an unknown apiVersion',
      (o) => (kind(o, 'Role').apiVersion = 'rbac.example.io/v1'),
      /unknown apiVersion/,
    ],
  ];
  for (const [what, change, message] of cases) {
    it(what, async () => {
      const objects = mutated(change);
      await assert.rejects(async () => {
        for (const o of objects) await validateObject(o);
      }, message);
    });
  }

  it('maps take any key (labels, nodeSelector, resources)', async () => {
    const objects = mutated((o) => {
      kind(o, 'DaemonSet').spec.template.metadata.labels['example.com/anything'] = 'x';
      kind(o, 'DaemonSet').spec.template.spec.nodeSelector = { 'kubernetes.io/os': 'linux' };
      ctr(o).resources.limits = { 'example.com/device': '1' };
    });
    for (const o of objects) await validateObject(o);
  });
});

describe('the invariants refuse', () => {
  it('pass on the rendered base (the control)', () => {
    for (const check of Object.values(CHECKS)) check(base, BASE);
  });

  const cases: [keyof typeof CHECKS, string, (objects: any[]) => void, RegExp][] = [
    [
      'settings',
      'a K8S_DISTRIBUTION src/settings refuses',
      (o) => ctr(o).env.push({ name: 'K8S_DISTRIBUTION', value: 'openshift' }),
      /K8S_DISTRIBUTION/,
    ],
    [
      'settings',
      'a distribution other than the overlay says',
      (o) => ctr(o).env.push({ name: 'K8S_DISTRIBUTION', value: 'k3s' }),
      /K8S_DISTRIBUTION/,
    ],
    [
      'settings',
      'a suffix the overlay does not say',
      (o) => ctr(o).env.push({ name: 'MULTI_INSTALL_SUFFIX', value: 'blue' }),
      /MULTI_INSTALL_SUFFIX/,
    ],
    [
      'identity',
      'DAEMONSET_NAME not the DaemonSet',
      (o) => (env(o, 'DAEMONSET_NAME').value = 'kata-deploy-blue'),
      /DAEMONSET_NAME/,
    ],
    [
      'identity',
      'a DaemonSet renamed without its env',
      (o) => (kind(o, 'DaemonSet').metadata.name = 'kata-deploy-green'),
      /DAEMONSET_NAME/,
    ],
    [
      'identity',
      'a selector shared between installs',
      (o) => delete kind(o, 'DaemonSet').spec.selector.matchLabels['app.kubernetes.io/instance'],
      /instance label/,
    ],
    [
      'healthPort',
      'a probe on another port',
      (o) => (ctr(o).readinessProbe.httpGet.port = 8091),
      /readinessProbe port/,
    ],
    [
      'healthPort',
      'HEALTH_PORT changed alone',
      (o) => (env(o, 'HEALTH_PORT').value = '8091'),
      /port is HEALTH_PORT/,
    ],
    [
      'healthPort',
      'the declared port changed alone',
      (o) => (ctr(o).ports[0].containerPort = 8091),
      /declared port/,
    ],
    [
      'hostPaths',
      'a second host path',
      (o) =>
        kind(o, 'DaemonSet').spec.template.spec.volumes.push({ name: 'x', hostPath: { path: '/var/lib' } }),
      /one hostPath/,
    ],
    [
      'hostPaths',
      'no mount propagation',
      (o) => delete ctr(o).volumeMounts[0].mountPropagation,
      /HostToContainer/,
    ],
    ['hostPaths', '--host-root elsewhere than the mount', (o) => (ctr(o).args[3] = '/node'), /--host-root/],
    [
      'runtimeClasses',
      'a handler of another suffix',
      (o) => (kind(o, 'RuntimeClass').handler = 'kata-clh-blue'),
      /one RuntimeClass per handler/,
    ],
    [
      'runtimeClasses',
      'a shim missing',
      (o) => o.splice(o.indexOf(kind(o, 'RuntimeClass')), 1),
      /one RuntimeClass per handler/,
    ],
    [
      'runtimeClasses',
      'an overhead not from the table',
      (o) => (kind(o, 'RuntimeClass').overhead.podFixed.memory = '64Mi'),
      /overhead/,
    ],
    [
      'runtimeClasses',
      'no instance marker in the nodeSelector',
      (o) => delete kind(o, 'RuntimeClass').scheduling.nodeSelector['kata-deploy.katacontainers.io/default'],
      /nodeSelector/,
    ],
    [
      'rbac',
      'a verb the code does not use',
      (o) => kind(o, 'ClusterRole').rules[0].verbs.push('list'),
      /ClusterRole rules/,
    ],
    ['rbac', 'a verb the code uses, missing', (o) => kind(o, 'Role').rules[0].verbs.pop(), /Role rules/],
    [
      'rbac',
      'a binding to another service account',
      (o) => (kind(o, 'RoleBinding').subjects[0].name = 'default'),
      /RoleBinding subjects/,
    ],
    [
      'rbac',
      'the pod under another service account',
      (o) => (kind(o, 'DaemonSet').spec.template.spec.serviceAccountName = 'default'),
      /ServiceAccount/,
    ],
  ];
  for (const [check, what, change, message] of cases) {
    it(`${check}: ${what}`, () => {
      assert.throws(() => CHECKS[check](mutated(change), BASE), message);
    });
  }
});

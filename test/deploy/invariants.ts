/**
 * What a rendering of deploy/ must hold for the pod it describes to work, checked against the code that reads
 * it: the env through `loadSettings`, the RuntimeClasses through `deriveNames` and the overhead table, the RBAC
 * through src/k8s/access.ts. Each check throws (node:assert) naming what disagrees.
 */
import assert from 'node:assert/strict';
import type { IDaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import type { IRuntimeClass } from 'kubernetes-models/node.k8s.io/v1/RuntimeClass';
import type { IRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import type { IRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { requiredRules, type RbacRule } from '../../src/k8s/access.js';
import { markerLabel, SHARED_LABEL } from '../../src/k8s/labels.js';
import { deriveNames } from '../../src/names/index.js';
import { loadSettings, type Distribution, type Settings } from '../../src/settings/index.js';
import { POD_OVERHEAD, type Shim } from '../../src/settings/shims.js';
import type { K8sObject } from './render.js';

/** What a rendering is for. */
export interface Expected {
  /** K8S_DISTRIBUTION it must set (undefined: none). */
  readonly distribution: Distribution | undefined;
  readonly suffix: string | undefined;
  readonly snapshotters: readonly string[];
}

export function only<T>(objects: readonly K8sObject[], kind: string): T {
  const found = objects.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `exactly one ${kind}, found ${found.length}`);
  return found[0] as unknown as T;
}

function all<T>(objects: readonly K8sObject[], kind: string): T[] {
  return objects.filter((o) => o.kind === kind) as unknown as T[];
}

function container(ds: IDaemonSet) {
  const containers = ds.spec?.template.spec?.containers ?? [];
  assert.equal(containers.length, 1, 'one container');
  return containers[0]!;
}

/** The container's environment as the pod gets it: literal values, and the downward API's fields. */
export function podEnv(ds: IDaemonSet, nodeName: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of container(ds).env ?? []) {
    assert.ok(!(e.name in env), `env ${e.name} set twice`);
    const field = e.valueFrom?.fieldRef?.fieldPath;
    if (e.value !== undefined) env[e.name] = e.value;
    else if (field === 'spec.nodeName') env[e.name] = nodeName;
    else if (field === 'metadata.namespace') env[e.name] = ds.metadata?.namespace ?? '';
    else assert.fail(`env ${e.name}: a source this test cannot evaluate`);
  }
  return env;
}

function settingsOf(ds: IDaemonSet): Settings {
  const args = container(ds).args ?? [];
  const at = args.indexOf('--host-root');
  return loadSettings({
    env: podEnv(ds, 'node-1'),
    flags: { hostRoot: at === -1 ? undefined : args[at + 1] },
    arch: 'x86_64',
  });
}

export function checkSettings(objects: readonly K8sObject[], want: Expected): void {
  const settings = settingsOf(only<IDaemonSet>(objects, 'DaemonSet'));
  assert.equal(settings.k8sDistribution, want.distribution, 'K8S_DISTRIBUTION');
  assert.equal(settings.multiInstallSuffix, want.suffix, 'MULTI_INSTALL_SUFFIX');
  assert.deepEqual([...settings.setupSnapshotters], want.snapshotters, 'EXPERIMENTAL_SETUP_SNAPSHOTTER');
}

export function checkIdentity(objects: readonly K8sObject[]): void {
  const ds = only<IDaemonSet>(objects, 'DaemonSet');
  const env = podEnv(ds, 'node-1');
  assert.equal(env['DAEMONSET_NAME'], ds.metadata?.name, "DAEMONSET_NAME is the DaemonSet's name");
  assert.equal(ds.metadata?.namespace, 'kube-system');
  assert.equal(env['POD_NAMESPACE'], 'kube-system', 'POD_NAMESPACE');
  assert.equal(env['NODE_NAME'], 'node-1', 'NODE_NAME');
  const selector = ds.spec?.selector.matchLabels ?? {};
  assert.equal(selector['app.kubernetes.io/instance'], ds.metadata?.name, "the selector's instance label");
  for (const [k, v] of Object.entries(selector))
    assert.equal(ds.spec?.template.metadata?.labels?.[k], v, `the pod carries ${k}=${v}`);
}

export function checkHealthPort(objects: readonly K8sObject[]): void {
  const ds = only<IDaemonSet>(objects, 'DaemonSet');
  const ctr = container(ds);
  const port = Number(podEnv(ds, 'node-1')['HEALTH_PORT']);
  assert.ok(Number.isInteger(port) && port > 0, 'HEALTH_PORT is a port');
  const probes = { startupProbe: '/readyz', readinessProbe: '/readyz', livenessProbe: '/healthz' } as const;
  for (const [probe, path] of Object.entries(probes)) {
    const get = ctr[probe as keyof typeof probes]?.httpGet;
    assert.equal(get?.port, port, `${probe} port is HEALTH_PORT`);
    assert.equal(get?.path, path, `${probe} path`);
  }
  assert.deepEqual(
    (ctr.ports ?? []).map((p) => p.containerPort),
    [port],
    'the declared port is HEALTH_PORT',
  );
}

export function checkHostPaths(objects: readonly K8sObject[]): void {
  const ds = only<IDaemonSet>(objects, 'DaemonSet');
  const pod = ds.spec!.template.spec!;
  const hostPaths = (pod.volumes ?? []).filter((v) => v.hostPath !== undefined);
  assert.deepEqual(
    hostPaths.map((v) => v.hostPath),
    [{ path: '/', type: 'Directory' }],
    'one hostPath, the node root',
  );
  const mounts = (container(ds).volumeMounts ?? []).filter((m) => m.name === hostPaths[0]!.name);
  assert.deepEqual(
    mounts,
    [{ name: hostPaths[0]!.name, mountPath: '/host', mountPropagation: 'HostToContainer' }],
    'the node root mounted at /host, HostToContainer',
  );
  assert.equal(settingsOf(ds).hostRoot, mounts[0]!.mountPath, '--host-root is where the node root is');
  assert.equal(pod.hostPID, true, 'hostPID');
  assert.equal(pod.hostNetwork, true, 'hostNetwork');
}

export function checkRuntimeClasses(objects: readonly K8sObject[]): void {
  const settings = settingsOf(only<IDaemonSet>(objects, 'DaemonSet'));
  const handlers = deriveNames(settings, 'containerd').handlers;
  const classes = all<IRuntimeClass>(objects, 'RuntimeClass');
  assert.deepEqual(
    classes.map((rc) => rc.handler).sort(),
    handlers.map((h) => h.handler).sort(),
    'one RuntimeClass per handler the settings derive',
  );
  for (const rc of classes) {
    const h = handlers.find((x) => x.handler === rc.handler)!;
    assert.equal(rc.metadata?.name, h.handler, 'named as its handler');
    assert.deepEqual(rc.overhead?.podFixed, { ...POD_OVERHEAD[h.shim as Shim] }, `${rc.handler} overhead`);
    assert.deepEqual(
      rc.scheduling?.nodeSelector,
      { [SHARED_LABEL]: 'true', [markerLabel(settings.multiInstallSuffix)]: 'true' },
      `${rc.handler} nodeSelector`,
    );
    assert.equal(rc.metadata?.labels?.['kata-deploy/instance'], settings.multiInstallSuffix ?? 'default');
  }
}

type RuleLike = { readonly [K in keyof RbacRule]?: RbacRule[K] };
const sortRules = (rules: readonly RuleLike[]) =>
  rules
    .map((r) => ({
      apiGroups: [...(r.apiGroups ?? [])],
      resources: [...(r.resources ?? [])],
      verbs: [...(r.verbs ?? [])].sort(),
    }))
    .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));

export function checkRbac(objects: readonly K8sObject[]): void {
  const ds = only<IDaemonSet>(objects, 'DaemonSet');
  const namespace = ds.metadata!.namespace!;
  const sa = only<K8sObject>(objects, 'ServiceAccount');
  assert.equal(
    ds.spec?.template.spec?.serviceAccountName,
    sa.metadata.name,
    'the pod runs as the ServiceAccount',
  );
  assert.equal(sa.metadata.namespace, namespace);
  const need = requiredRules();
  for (const [roleKind, bindingKind, rules] of [
    ['ClusterRole', 'ClusterRoleBinding', need.cluster],
    ['Role', 'RoleBinding', need.namespace],
  ] as const) {
    const role = only<IRole>(objects, roleKind);
    assert.deepEqual(
      sortRules(role.rules ?? []),
      sortRules(rules),
      `${roleKind} rules are src/k8s/access.ts's`,
    );
    if (roleKind === 'Role') assert.equal(role.metadata?.namespace, namespace);
    const binding = only<IRoleBinding>(objects, bindingKind);
    assert.deepEqual(
      binding.roleRef,
      { apiGroup: 'rbac.authorization.k8s.io', kind: roleKind, name: role.metadata?.name },
      `${bindingKind} roleRef`,
    );
    assert.deepEqual(
      binding.subjects,
      [{ kind: 'ServiceAccount', name: sa.metadata.name, namespace }],
      `${bindingKind} subjects`,
    );
  }
}

export const CHECKS = {
  settings: checkSettings,
  identity: checkIdentity,
  healthPort: checkHealthPort,
  hostPaths: checkHostPaths,
  runtimeClasses: checkRuntimeClasses,
  rbac: checkRbac,
} as const;

/**
 * Every call kata-deploy makes to the Kubernetes API and the RBAC it needs (pure data). `client.ts` names its
 * calls from this table, and the manifests' test (test/deploy) derives the ClusterRole and the Role from it
 * and compares them with deploy/base: a call added here without its rule, or a rule no call needs, fails there.
 */
import type { KubeApi } from './api.js';

export interface ApiAccess {
  readonly verb: 'get' | 'patch';
  /** The API group (`''`: core). */
  readonly group: '' | 'apps';
  readonly resource: 'nodes' | 'daemonsets';
  /** A namespaced resource needs a Role in the pod's namespace; the others a ClusterRole. */
  readonly namespaced: boolean;
  /** The @kubernetes/client-node method that sends it. */
  readonly clientMethod: 'readNode' | 'patchNode' | 'readNamespacedDaemonSet';
}

type KubeApiCall = {
  [K in keyof KubeApi]: KubeApi[K] extends (...args: never[]) => unknown ? K : never;
}[keyof KubeApi];

export const API_ACCESS = {
  readNode: { verb: 'get', group: '', resource: 'nodes', namespaced: false, clientMethod: 'readNode' },
  patchNodeLabels: {
    verb: 'patch',
    group: '',
    resource: 'nodes',
    namespaced: false,
    clientMethod: 'patchNode',
  },
  replaceNodeTaints: {
    verb: 'patch',
    group: '',
    resource: 'nodes',
    namespaced: false,
    clientMethod: 'patchNode',
  },
  readDaemonSet: {
    verb: 'get',
    group: 'apps',
    resource: 'daemonsets',
    namespaced: true,
    clientMethod: 'readNamespacedDaemonSet',
  },
} as const satisfies Record<KubeApiCall, ApiAccess>;

export interface RbacRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
}

/** The rules the table needs, one per group and resource, verbs sorted: `cluster` for a ClusterRole, `namespace` for a Role. */
export function requiredRules(): { readonly cluster: RbacRule[]; readonly namespace: RbacRule[] } {
  const grouped = new Map<string, { access: ApiAccess; verbs: Set<string> }>();
  for (const access of Object.values(API_ACCESS) as ApiAccess[]) {
    const key = `${access.namespaced}/${access.group}/${access.resource}`;
    const entry = grouped.get(key) ?? { access, verbs: new Set<string>() };
    entry.verbs.add(access.verb);
    grouped.set(key, entry);
  }
  const rules = [...grouped.values()].map(({ access, verbs }) => ({
    namespaced: access.namespaced,
    rule: { apiGroups: [access.group], resources: [access.resource], verbs: [...verbs].sort() },
  }));
  return {
    cluster: rules.filter((r) => !r.namespaced).map((r) => r.rule),
    namespace: rules.filter((r) => r.namespaced).map((r) => r.rule),
  };
}

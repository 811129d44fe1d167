/**
 * The RBAC table (src/k8s/access.ts) against the code: every Kubernetes API call in src/ is one the table
 * lists, sent by the KubeApi method the table says; deploy/'s roles are checked against the table in
 * manifests.test.ts. Together: a call added to the client without its rule fails here or there.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../scripts/manifests.js';
import { API_ACCESS, requiredRules, type ApiAccess } from '../../src/k8s/access.js';
import { apiCallSites, clientNodeApiMethods, clientNodeFiles } from './code-scan.js';

const apiMethods = clientNodeApiMethods();

/** client-node's method names say the verb and whether the resource is namespaced. */
function impliedBy(clientMethod: string): { verb: string; namespaced: boolean; resource: string } {
  const m = /^(read|patch|list|create|replace|delete)(Namespaced)?(\w+)$/.exec(clientMethod);
  assert.ok(m, `${clientMethod}: not a verb this test knows`);
  const verbs: Record<string, string> = {
    read: 'get',
    patch: 'patch',
    list: 'list',
    create: 'create',
    replace: 'update',
    delete: 'delete',
  };
  return { verb: verbs[m[1]!]!, namespaced: m[2] !== undefined, resource: `${m[3]!.toLowerCase()}s` };
}

type Site = ReturnType<typeof apiCallSites>[number];

/** What is wrong with the call sites against the table: one line a problem, none when they agree. */
function siteProblems(sites: readonly Site[], table: Record<string, ApiAccess>): string[] {
  const problems: string[] = [];
  for (const site of sites) {
    const where = `${site.file}: ${site.method}() in ${site.within ?? '(top level)'}`;
    if (site.within === undefined || !(site.within in table)) {
      problems.push(`${where}: not a KubeApi method of the table`);
      continue;
    }
    if (site.declared !== site.within) problems.push(`${where} names its call apiCall('${site.declared}')`);
    if (table[site.within]!.clientMethod !== site.method)
      problems.push(`${where}: the table says another method`);
  }
  return problems;
}

describe('src/k8s/access.ts against the code', () => {
  it('the scan sees client-node API methods (else it could pass on nothing)', () => {
    for (const m of ['readNode', 'patchNode', 'readNamespacedDaemonSet', 'listNode', 'deleteNamespacedPod'])
      assert.ok(apiMethods.has(m), m);
    assert.ok(apiMethods.size > 500, `${apiMethods.size} methods`);
  });

  it('every client-node call in src/ is sent by the KubeApi method the table lists it under', () => {
    const files = clientNodeFiles(REPO_ROOT);
    assert.ok(
      files.some((f) => f.file === 'src/k8s/client.ts'),
      'src/k8s/client.ts imports client-node',
    );
    const sites = files.flatMap((f) => apiCallSites(f.file, f.text, apiMethods));
    const table = API_ACCESS as Record<string, ApiAccess>;
    assert.deepEqual(siteProblems(sites, table), []);
    // And each table entry is a call the code makes.
    const called = new Set(sites.map((s) => s.within));
    for (const method of Object.keys(table))
      assert.ok(called.has(method), `${method} is in the table, not in the code`);
  });

  it("each entry's verb, resource and scope are what its client-node method does", () => {
    for (const [method, access] of Object.entries(API_ACCESS as Record<string, ApiAccess>)) {
      const implied = impliedBy(access.clientMethod);
      assert.equal(access.verb, implied.verb, `${method} verb`);
      assert.equal(access.namespaced, implied.namespaced, `${method} scope`);
      assert.equal(access.resource, implied.resource, `${method} resource`);
    }
  });

  it('the rules: nodes get/patch cluster-wide, daemonsets get in the namespace (docs/daemonset.md)', () => {
    assert.deepEqual(requiredRules(), {
      cluster: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'patch'] }],
      namespace: [{ apiGroups: ['apps'], resources: ['daemonsets'], verbs: ['get'] }],
    });
  });

  it('the scan refuses a call the table does not list, or one named as another', () => {
    const text = [
      'class X {',
      '  async readNode(name: string) {',
      "    const call = apiCall('readNode', name);",
      '    await this.core.listNode({}, o);',
      '  }',
      '  async readDaemonSet(namespace: string, name: string) {',
      "    const call = apiCall('readNode', name);",
      '    await this.apps.readNamespacedDaemonSet({ name, namespace }, o);',
      '  }',
      '}',
    ].join('\n');
    const sites = apiCallSites('x.ts', text, apiMethods);
    assert.deepEqual(
      sites.map((s) => [s.within, s.declared, s.method]),
      [
        ['readNode', 'readNode', 'listNode'],
        ['readDaemonSet', 'readNode', 'readNamespacedDaemonSet'],
      ],
    );
    assert.deepEqual(siteProblems(sites, API_ACCESS as Record<string, ApiAccess>), [
      'x.ts: listNode() in readNode: the table says another method',
      "x.ts: readNamespacedDaemonSet() in readDaemonSet names its call apiCall('readNode')",
    ]);
  });
});

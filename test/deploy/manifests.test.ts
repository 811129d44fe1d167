/**
 * deploy/: every overlay (and the base, and the base with each component) rendered with `kubectl kustomize`,
 * every object validated against Kubernetes' OpenAPI schemas (kubernetes-models, unknown fields refused), and
 * the invariants the pod depends on checked against the code that reads them: the env through
 * `loadSettings`, the RuntimeClasses through `deriveNames`, the RBAC through src/k8s/access.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { IDaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { GENERATED, REPO_ROOT, runtimeClassesYaml } from '../../scripts/manifests.js';
import type { Distribution } from '../../src/settings/index.js';
import { CHECKS, only, podEnv, type Expected } from './invariants.js';
import { deployDirs, describeRendering, render, type K8sObject, type Rendering } from './render.js';
import { validateObject } from './schema.js';

type Case = Rendering & Expected;

const distro = (d: Distribution): Case => ({
  dir: `deploy/overlays/${d}`,
  distribution: d,
  suffix: undefined,
  snapshotters: [],
});

const CASES: readonly Case[] = [
  { dir: 'deploy/base', distribution: undefined, suffix: undefined, snapshotters: [] },
  distro('k3s'),
  distro('rke2'),
  distro('k0s'),
  distro('microk8s'),
  { dir: 'deploy/overlays/multi-install', distribution: undefined, suffix: 'blue', snapshotters: [] },
  {
    dir: 'deploy/base',
    components: ['deploy/components/nydus'],
    distribution: undefined,
    suffix: undefined,
    snapshotters: ['nydus'],
  },
  {
    dir: 'deploy/overlays/multi-install',
    components: ['deploy/components/nydus'],
    distribution: undefined,
    suffix: 'blue',
    snapshotters: ['nydus'],
  },
];

const rendered = new Map<Case, K8sObject[]>();
before(() => {
  for (const c of CASES) rendered.set(c, render(c));
});
const objectsOf = (c: Case) => rendered.get(c)!;

describe('deploy/ rendered with kubectl kustomize', () => {
  it('renders every overlay and component the tests list (a new one must be added here)', () => {
    const listed = new Set(CASES.flatMap((c) => [c.dir, ...(c.components ?? [])]));
    for (const dir of [...deployDirs('overlays'), ...deployDirs('components')])
      assert.ok(listed.has(dir), `${dir} is not rendered by test/deploy/manifests.test.ts`);
  });

  for (const c of CASES) {
    describe(describeRendering(c), () => {
      it('validates every object against the OpenAPI schemas, unknown fields refused', async (t) => {
        const objects = objectsOf(c);
        for (const o of objects) await validateObject(o);
        const kinds = new Map<string, number>();
        for (const o of objects) kinds.set(o.kind, (kinds.get(o.kind) ?? 0) + 1);
        t.diagnostic(`${objects.length} objects: ${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')}`);
      });

      for (const [name, check] of Object.entries(CHECKS)) {
        it(`invariant: ${name}`, () => check(objectsOf(c), c));
      }
    });
  }

  it('the multi-install overlay can run beside the base: no shared name, port or selected pod', () => {
    const base = objectsOf(CASES[0]!);
    const blue = objectsOf(CASES.find((c) => c.suffix !== undefined && c.components === undefined)!);
    const names = (objects: readonly K8sObject[]) =>
      new Set(objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`));
    const shared = [...names(blue)].filter((n) => names(base).has(n));
    assert.deepEqual(shared, []);
    const [a, b] = [base, blue].map((o) => only<IDaemonSet>(o, 'DaemonSet'));
    assert.notEqual(podEnv(a!, 'n')['HEALTH_PORT'], podEnv(b!, 'n')['HEALTH_PORT']);
    const selects = (ds: IDaemonSet, other: IDaemonSet) =>
      Object.entries(ds.spec!.selector.matchLabels ?? {}).every(
        ([k, v]) => other.spec?.template.metadata?.labels?.[k] === v,
      );
    assert.equal(selects(a!, b!), false, "the base's DaemonSet selects the other's pods");
    assert.equal(selects(b!, a!), false, "the other's DaemonSet selects the base's pods");
  });

  it('the committed RuntimeClasses are what `npm run manifests` writes', async () => {
    for (const { file, suffix } of GENERATED) {
      const committed = readFileSync(join(REPO_ROOT, file), 'utf8');
      assert.ok(
        committed === (await runtimeClassesYaml(suffix)),
        `${file} differs from what the shim table gives: run npm run manifests`,
      );
    }
  });
});

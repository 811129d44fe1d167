/** Renders deploy/'s kustomizations with the real `kubectl kustomize` (kubectl 1.32, kustomize v5.5). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { loadAll } from 'js-yaml';
import { kubectlBinary } from '../bed/index.js';
import { REPO_ROOT } from '../../scripts/manifests.js';

export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Record<string, string>;
  };
  readonly [key: string]: unknown;
}

export interface Rendering {
  /** What is rendered: a kustomization directory, plus components added to it. */
  readonly dir: string;
  readonly components?: readonly string[];
}

export function describeRendering(r: Rendering): string {
  return [r.dir, ...(r.components ?? [])].join(' + ');
}

/** The directories under deploy/<kind> (overlays, components): a new one must be listed by the tests. */
export function deployDirs(kind: 'overlays' | 'components'): string[] {
  return readdirSync(join(REPO_ROOT, 'deploy', kind), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => `deploy/${kind}/${e.name}`)
    .sort();
}

function kustomize(dir: string): string {
  try {
    return execFileSync(kubectlBinary(), ['kustomize', dir], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const e = error as { stderr?: string };
    throw new Error(`kubectl kustomize ${dir} failed: ${e.stderr ?? String(error)}`);
  }
}

export function render(r: Rendering): K8sObject[] {
  let text: string;
  if (r.components === undefined || r.components.length === 0) {
    text = kustomize(join(REPO_ROOT, r.dir));
  } else {
    // A component is used from a kustomization: one of our own, in a directory this test creates and removes
    // (kustomize takes relative paths only).
    const dir = mkdtempSync(join(tmpdir(), 'kd-deploy-'));
    try {
      const rel = (p: string) => relative(dir, join(REPO_ROOT, p));
      writeFileSync(
        join(dir, 'kustomization.yaml'),
        JSON.stringify({
          apiVersion: 'kustomize.config.k8s.io/v1beta1',
          kind: 'Kustomization',
          resources: [rel(r.dir)],
          components: r.components.map(rel),
        }),
      );
      text = kustomize(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const objects = loadAll(text).filter((o) => o !== null);
  if (objects.length === 0) throw new Error(`${describeRendering(r)} rendered nothing`);
  return objects as K8sObject[];
}

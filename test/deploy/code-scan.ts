/**
 * Finds the Kubernetes API calls the source makes, to compare them with src/k8s/access.ts (and through it with
 * deploy/'s RBAC). A call is a method of one of @kubernetes/client-node's API classes (CoreV1Api, AppsV1Api,
 * …), called in a file that imports that package.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as clientNode from '@kubernetes/client-node';

/**
 * Every method of every API class client-node exports (`readNode`, `listNamespacedPod`, `getAPIResources`,
 * …): a verb and a resource in camel case, so a bare `replace` (a string's, also on some classes) is not one.
 */
export function clientNodeApiMethods(): Set<string> {
  const names = new Set<string>();
  for (const [exported, value] of Object.entries(clientNode)) {
    if (!/Api$/.test(exported) || typeof value !== 'function') continue;
    for (const name of Object.getOwnPropertyNames((value as { prototype: object }).prototype))
      if (/^[a-z]+[A-Z]/.test(name)) names.add(name);
  }
  return names;
}

export interface ApiCallSite {
  readonly file: string;
  readonly method: string;
  /** The method of the enclosing class it is in, when one encloses it (`  async readNode(`). */
  readonly within: string | undefined;
  /** The `apiCall('<name>'` that method names its call with, if any. */
  readonly declared: string | undefined;
}

/** The client-node API calls in one file's text. */
export function apiCallSites(file: string, text: string, apiMethods: ReadonlySet<string>): ApiCallSite[] {
  const sites: ApiCallSite[] = [];
  // Class members start at two spaces of indentation; a call belongs to the last one above it.
  const members = [...text.matchAll(/^ {2}(?:async\s+)?(\w+)\s*\(/gm)].map((m) => ({
    name: m[1]!,
    at: m.index,
  }));
  for (const m of text.matchAll(/\.(\w+)\s*\(/g)) {
    const method = m[1]!;
    if (!apiMethods.has(method)) continue;
    const member = members.filter((x) => x.at < m.index).at(-1);
    const body = member === undefined ? '' : text.slice(member.at, m.index);
    sites.push({
      file,
      method,
      within: member?.name,
      declared: [...body.matchAll(/apiCall\('(\w+)'/g)].at(-1)?.[1],
    });
  }
  return sites;
}

/** Every non-test source file under src/ that imports @kubernetes/client-node, with its text. */
export function clientNodeFiles(repoRoot: string): { file: string; text: string }[] {
  const found: { file: string; text: string }[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.test.ts')) {
        const text = readFileSync(path, 'utf8');
        if (/from '@kubernetes\/client-node'/.test(text))
          found.push({ file: relative(repoRoot, path), text });
      }
    }
  };
  walk(join(repoRoot, 'src'));
  return found;
}

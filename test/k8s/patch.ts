/**
 * The patch semantics of the test API server (pure): JSON merge patch (RFC 7386), JSON patch (RFC 6902) and,
 * for the maps this double serves, strategic merge patch as a merge patch (lists are replaced, which is what
 * Kubernetes' strategic merge does for lists without a merge key; `spec.taints` has none in the Node type).
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function mergePatch(target: Json, patch: Json): Json {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return clone(patch);
  const base: { [k: string]: Json } =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete base[k];
    else base[k] = mergePatch(base[k] ?? null, v);
  }
  return base;
}

export interface JsonPatchOp {
  readonly op: string;
  readonly path: string;
  readonly value?: Json;
  readonly from?: string;
}

export class JsonPatchTestFailed extends Error {}
export class JsonPatchInvalid extends Error {}

export function jsonPatch(doc: Json, ops: readonly JsonPatchOp[]): Json {
  let out = clone(doc);
  for (const op of ops) {
    const path = pointer(op.path);
    switch (op.op) {
      case 'test':
        if (JSON.stringify(get(out, path)) !== JSON.stringify(op.value))
          throw new JsonPatchTestFailed(`testing value ${op.path} failed`);
        break;
      case 'add':
        out = put(out, path, clone(op.value ?? null), 'add');
        break;
      case 'replace':
        if (get(out, path) === undefined) throw new JsonPatchInvalid(`replace: ${op.path} does not exist`);
        out = put(out, path, clone(op.value ?? null), 'replace');
        break;
      case 'remove':
        if (get(out, path) === undefined) throw new JsonPatchInvalid(`remove: ${op.path} does not exist`);
        out = put(out, path, undefined, 'remove');
        break;
      default:
        throw new JsonPatchInvalid(`unsupported op ${op.op}`);
    }
  }
  return out;
}

function pointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw new JsonPatchInvalid(`bad path ${p}`);
  return p
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function get(doc: Json, path: readonly string[]): Json | undefined {
  let cur: Json | undefined = doc;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = Array.isArray(cur) ? cur[Number(key)] : cur[key];
  }
  return cur;
}

function put(
  doc: Json,
  path: readonly string[],
  value: Json | undefined,
  mode: 'add' | 'replace' | 'remove',
): Json {
  if (path.length === 0) return value ?? null;
  const [head, ...rest] = path as [string, ...string[]];
  if (Array.isArray(doc)) {
    const copy = [...doc];
    const index = head === '-' ? copy.length : Number(head);
    if (rest.length > 0) copy[index] = put(copy[index] ?? null, rest, value, mode);
    else if (mode === 'remove') copy.splice(index, 1);
    else if (mode === 'add') copy.splice(index, 0, value!);
    else copy[index] = value!;
    return copy;
  }
  if (doc === null || typeof doc !== 'object') throw new JsonPatchInvalid(`no object at ${head}`);
  const copy = { ...doc };
  if (rest.length > 0) copy[head] = put(copy[head] ?? null, rest, value, mode);
  else if (mode === 'remove') delete copy[head];
  else copy[head] = value!;
  return copy;
}

function clone<T extends Json | undefined>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

export type { Json };

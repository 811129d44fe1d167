/**
 * Validates Kubernetes objects against the OpenAPI schemas of the kubernetes-models package (no hand-written
 * schema): the model class is picked by apiVersion and kind (an unknown one is refused), its validator checks
 * types, formats and required fields, and a second pass refuses fields the schema does not define.
 *
 * Kubernetes' schemas do not forbid unknown properties, and the package ships them as compiled validators, not
 * as JSON. So the second pass runs the same validator on a proxy of the object and records what it looks at: a
 * property the validator read is one the schema defines; an object whose keys the validator enumerated is a map
 * (`additionalProperties`: labels, resources); any other key is unknown to the schema, as `kubectl apply
 * --validate=strict` would call it.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

interface ModelClass {
  new (data: object): { validate(): void };
  readonly prototype: { validate(this: object): void };
}

const loaded = new Map<string, Record<string, unknown>>();

/** `apps/v1` → `kubernetes-models/apps/v1`, `v1` → `kubernetes-models/v1`. */
async function modelClass(apiVersion: unknown, kind: unknown): Promise<ModelClass> {
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || !/^[a-z0-9.]*\/?v\w+$/.test(apiVersion))
    throw new Error(`not a Kubernetes object: apiVersion ${String(apiVersion)}, kind ${String(kind)}`);
  let mod = loaded.get(apiVersion);
  if (mod === undefined) {
    try {
      mod = (await import(`kubernetes-models/${apiVersion}`)) as Record<string, unknown>;
    } catch {
      throw new Error(`unknown apiVersion ${apiVersion} (kind ${kind}): kubernetes-models has no such API`);
    }
    loaded.set(apiVersion, mod);
  }
  const cls = Object.hasOwn(mod, kind) ? mod[kind] : undefined;
  if (typeof cls !== 'function') throw new Error(`unknown kind ${kind} in ${apiVersion}`);
  return cls as ModelClass;
}

/** Throws when the object does not match its schema or carries a field the schema does not define. */
export async function validateObject(obj: unknown): Promise<void> {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new Error('not an object');
  const o = obj as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } };
  const Model = await modelClass(o.apiVersion, o.kind);
  const what = `${String(o.kind)} ${String(o.metadata?.name)}`;
  try {
    new Model(obj).validate();
  } catch (error) {
    throw new Error(`${what}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const unknown = unknownFields(Model, obj as Json);
  if (unknown.length > 0) throw new Error(`${what}: fields not in the schema: ${unknown.join(', ')}`);
}

export function unknownFields(Model: ModelClass, obj: Json): string[] {
  const read = new Map<object, Set<string>>();
  const enumerated = new Set<object>();
  const wrap = (value: unknown): unknown => {
    if (typeof value !== 'object' || value === null) return value;
    const target = value;
    const mark = (key: string | symbol) => {
      if (typeof key !== 'string') return;
      const keys = read.get(target) ?? new Set<string>();
      keys.add(key);
      read.set(target, keys);
    };
    return new Proxy(target, {
      get(t, key, receiver) {
        mark(key);
        return wrap(Reflect.get(t, key, receiver));
      },
      has(t, key) {
        mark(key);
        return Reflect.has(t, key);
      },
      ownKeys(t) {
        enumerated.add(t);
        return Reflect.ownKeys(t);
      },
    });
  };
  // The validator the model class was given, on the proxy (the constructor would copy the object first).
  Model.prototype.validate.call(wrap(obj) as object);
  const found: string[] = [];
  const walk = (value: Json, path: string): void => {
    if (Array.isArray(value)) {
      value.forEach((v, i) => walk(v, `${path}[${i}]`));
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    const known = read.get(value);
    for (const [key, v] of Object.entries(value)) {
      const at = path === '' ? key : `${path}.${key}`;
      if (!enumerated.has(value) && !known?.has(key)) found.push(at);
      else walk(v, at);
    }
  };
  walk(obj, '');
  return found;
}

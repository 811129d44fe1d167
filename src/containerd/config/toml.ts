/**
 * TOML as plain data: parse (errors name the file), path helpers over the parsed tree, and a renderer for the
 * tables kata-deploy owns, written with full dotted headers (`[plugins."io.containerd.grpc.v1.cri".containerd
 * .runtimes.kata-qemu]`) the way containerd's own documentation writes them.
 */
import { parse } from '@decimalturn/toml-patch';
import { HostError } from '../../errors/index.js';

export type TomlValue = string | number | boolean | bigint | Date | TomlValue[] | TomlTable;
export interface TomlTable {
  [key: string]: TomlValue;
}
export type TomlPath = readonly string[];

export function isTable(value: unknown): value is TomlTable {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** Parses TOML; an empty or comment-only text is an empty table. */
export function parseToml(text: string, file: string): TomlTable {
  try {
    const doc: unknown = parse(text);
    return isTable(doc) ? doc : {};
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new HostError(`${file} is not valid TOML: ${reason}`, {
      input: file,
      hint: 'fix the file (containerd would refuse it too), then run kata-deploy again',
      cause: error,
    });
  }
}

/** Structural equality of parsed TOML (the parser's objects and plain objects compare equal). */
export function tomlEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Date || b instanceof Date) {
    return (
      a instanceof Date &&
      b instanceof Date &&
      a.constructor === b.constructor &&
      a.toISOString() === b.toISOString()
    );
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => tomlEqual(x, b[i]))
    );
  }
  if (isTable(a) && isTable(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && tomlEqual(a[k], b[k]))
    );
  }
  return typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b);
}

export function clone<T>(value: T): T {
  return structuredClone(value);
}

export function getAt(doc: TomlTable, path: TomlPath): TomlValue | undefined {
  let node: TomlValue | undefined = doc;
  for (const key of path) {
    if (!isTable(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

/** Sets a value, creating intermediate tables; fails if a non-table is in the way. */
export function setAt(doc: TomlTable, path: TomlPath, value: TomlValue, file: string): void {
  let node: TomlTable = doc;
  for (const [i, key] of path.slice(0, -1).entries()) {
    const next = Object.hasOwn(node, key) ? node[key] : undefined;
    if (next === undefined) {
      node[key] = {};
    } else if (!isTable(next)) {
      throw new HostError(`${file}: ${formatPath(path.slice(0, i + 1))} is a value, not a table`, {
        input: file,
        hint: 'fix the file so that key holds a table',
      });
    }
    node = node[key] as TomlTable;
  }
  node[path.at(-1)!] = value;
}

export function deleteAt(doc: TomlTable, path: TomlPath): boolean {
  const parent = getAt(doc, path.slice(0, -1));
  const key = path.at(-1)!;
  if (!isTable(parent) || !Object.hasOwn(parent, key)) return false;
  delete parent[key];
  return true;
}

function formatKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : formatString(key);
}

export function formatPath(path: TomlPath): string {
  return path.map(formatKey).join('.');
}

export function formatString(value: string): string {
  let out = '"';
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (code < 0x20 || code === 0x7f) out += `\\u${code.toString(16).padStart(4, '0').toUpperCase()}`;
    else out += ch;
  }
  return `${out}"`;
}

export function formatValue(value: TomlValue): string {
  if (typeof value === 'string') return formatString(value);
  if (typeof value === 'boolean' || typeof value === 'number' || typeof value === 'bigint')
    return String(value);
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return `[${value.map(formatValue).join(', ')}]`;
  return `{ ${Object.entries(value)
    .map(([k, v]) => `${formatKey(k)} = ${formatValue(v)}`)
    .join(', ')} }`;
}

/**
 * Renders one table at `path` as a header section, its sub-tables as further sections. A table holding only
 * sub-tables gets no header of its own (it stays implicit), so no empty `[a]` lines appear.
 */
export function renderTable(path: TomlPath, body: TomlTable): string {
  const scalars = Object.entries(body).filter(([, v]) => !isTable(v));
  const tables = Object.entries(body).filter(([, v]) => isTable(v)) as [string, TomlTable][];
  const sections: string[] = [];
  if (scalars.length > 0 || (tables.length === 0 && path.length > 0)) {
    const lines = scalars.map(([k, v]) => `${formatKey(k)} = ${formatValue(v)}\n`).join('');
    sections.push(path.length > 0 ? `[${formatPath(path)}]\n${lines}` : lines);
  }
  for (const [key, sub] of tables) sections.push(renderTable([...path, key], sub));
  return sections.filter((s) => s !== '').join('\n');
}

/**
 * Parsers for the value formats of kata-deploy's environment variables. Each takes the raw string (empty means
 * unset, as upstream treats it) and returns the parsed value or a description of what is accepted; the schema
 * turns the latter into an error that names the variable and the value.
 */
import type { ProxySetting, RuntimeVersion } from './types.js';

export type Parsed<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly accepted: string };

export const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
export const bad = (accepted: string): Parsed<never> => ({ ok: false, accepted });

const SHIM_NAME = /^[a-z0-9][a-z0-9-]*$/;
const SNAPSHOTTER_NAME = /^[a-z0-9][a-z0-9_.-]*$/;
const ANNOTATION = /^[A-Za-z0-9_.-]+$/;
/** Characters that would split a kernel command line or break out of a TOML string. */
const UNSAFE_IN_VALUE = /[\s"'\\`$;]/;
const hasControl = (s: string): boolean =>
  [...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
const unsafeValue = (s: string): boolean => UNSAFE_IN_VALUE.test(s) || hasControl(s);

export function parseBool(raw: string, fallback: boolean): Parsed<boolean> {
  const v = raw.trim().toLowerCase();
  if (v === '') return ok(fallback);
  if (v === 'true' || v === '1') return ok(true);
  if (v === 'false' || v === '0') return ok(false);
  return bad('true or false (1 and 0 also work)');
}

/** A whitespace-separated list of shim names; duplicates collapse, order is kept. */
export function parseShimList(raw: string, isKnown: (s: string) => boolean): Parsed<string[]> {
  const names = raw.split(/\s+/).filter((s) => s !== '');
  if (names.length === 0)
    return bad('a whitespace-separated, non-empty list of shim names (e.g. "qemu clh")');
  for (const name of names) {
    if (!SHIM_NAME.test(name) || !isKnown(name)) return bad(`known shim names only; "${name}" is not one`);
  }
  return ok([...new Set(names)]);
}

/** `shim:value,shim2:value` with exactly one entry per shim; `check` validates each value. */
export function parseShimMapping(
  raw: string,
  valueKind: string,
  check: (value: string) => boolean,
): Parsed<Map<string, string>> {
  const map = new Map<string, string>();
  const format = `comma-separated shim:${valueKind} entries, one per shim`;
  for (const entry of raw.split(',').map((s) => s.trim())) {
    if (entry === '') continue;
    const [shim, value, ...rest] = entry.split(':');
    if (
      shim === undefined ||
      value === undefined ||
      rest.length > 0 ||
      !SHIM_NAME.test(shim) ||
      !check(value)
    ) {
      return bad(`${format}; "${entry}" is not one`);
    }
    if (map.has(shim)) return bad(`${format}; "${shim}" appears twice`);
    map.set(shim, value);
  }
  return ok(map);
}

export const isSnapshotterName = (v: string): boolean => SNAPSHOTTER_NAME.test(v);

/** A comma-separated list of shim names (`EXPERIMENTAL_FORCE_GUEST_PULL_<ARCH>`). */
export function parseCommaShims(raw: string): Parsed<string[]> {
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const name of names) {
    if (!SHIM_NAME.test(name)) return bad(`a comma-separated list of shim names; "${name}" is not one`);
  }
  return ok([...new Set(names)]);
}

/** Hypervisor annotations as written: global names and `shim:ann1,ann2` entries, whitespace-separated. */
export interface AnnotationEntries {
  readonly global: readonly string[];
  readonly perShim: ReadonlyMap<string, readonly string[]>;
}

export function parseAnnotations(raw: string): Parsed<AnnotationEntries> {
  const global: string[] = [];
  const perShim = new Map<string, string[]>();
  const accepted = 'whitespace-separated annotation names or shim:name1,name2 entries';
  for (const entry of raw.split(/\s+/).filter((s) => s !== '')) {
    const colon = entry.indexOf(':');
    if (colon === -1) {
      if (!ANNOTATION.test(entry)) return bad(`${accepted}; "${entry}" is not one`);
      global.push(entry);
      continue;
    }
    const shim = entry.slice(0, colon);
    const names = entry
      .slice(colon + 1)
      .split(',')
      .filter((s) => s !== '');
    if (!SHIM_NAME.test(shim) || names.length === 0 || !names.every((n) => ANNOTATION.test(n))) {
      return bad(`${accepted}; "${entry}" is not one`);
    }
    perShim.set(shim, [...(perShim.get(shim) ?? []), ...names]);
  }
  return ok({ global, perShim });
}

/** `AGENT_HTTPS_PROXY` / `AGENT_NO_PROXY`: one value, or `shim=value;shim2=value` (a `=` selects the latter). */
export function parseProxy(raw: string): Parsed<ProxySetting | undefined> {
  if (raw === '') return ok(undefined);
  const unsafe =
    'no whitespace, quotes, backslashes, `$` or `;` inside a value (it goes on the kernel command line)';
  if (!raw.includes('=')) {
    return unsafeValue(raw) ? bad(`one proxy value with ${unsafe}`) : ok({ kind: 'global', value: raw });
  }
  const values = new Map<string, string>();
  for (const entry of raw.split(';').filter((s) => s !== '')) {
    const eq = entry.indexOf('=');
    const shim = entry.slice(0, eq);
    const value = entry.slice(eq + 1);
    if (eq <= 0 || !SHIM_NAME.test(shim) || value === '' || unsafeValue(value)) {
      return bad(`a value, or shim=value entries separated by ";", with ${unsafe}; "${entry}" is not one`);
    }
    values.set(shim, value);
  }
  return ok({ kind: 'perShim', values });
}

/**
 * `MULTI_INSTALL_SUFFIX`: it becomes part of directory, handler, unit and socket names, so only a DNS-label-like
 * word is accepted (no `..`, `/`, quotes, whitespace or TOML/unit-file metacharacters).
 */
export function parseSuffix(raw: string): Parsed<string | undefined> {
  const v = raw.trim();
  if (v === '') return ok(undefined);
  if (!/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/.test(v)) {
    return bad('lowercase letters, digits and inner "-" only, at most 32 characters (e.g. "coco")');
  }
  return ok(v);
}

/** `INSTALLATION_PREFIX`: an absolute, normalised path of plain segments. */
export function parseInstallationPrefix(raw: string): Parsed<string | undefined> {
  if (raw === '') return ok(undefined);
  const accepted =
    'an absolute path of plain segments (letters, digits, ".", "_", "+", "-"), e.g. /hoge/fuga';
  if (!raw.startsWith('/') || raw.length > 200) return bad(accepted);
  const segments = raw.split('/').slice(1);
  if (segments.at(-1) === '') segments.pop();
  if (segments.length === 0) return bad(`${accepted}; leave it unset to install under /opt/kata`);
  for (const segment of segments) {
    if (segment === '' || segment === '.' || segment === '..' || !/^[A-Za-z0-9._+-]+$/.test(segment)) {
      return bad(accepted);
    }
  }
  return ok(`/${segments.join('/')}`);
}

/** `CONTAINERD_CONFIG_FILE_NAME`: a bare file name. */
export function parseConfigFileName(raw: string): Parsed<string> {
  const v = raw.trim();
  if (v === '') return ok('config.toml');
  if (!/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/.test(v) || v.length > 128) {
    return bad('a bare file name such as config.toml (no "/", no leading ".", no "..")');
  }
  return ok(v);
}

/** `CONTAINER_RUNTIME_VERSION`: `<runtime>://<major>.<minor>[.<patch>][-extra]`. */
export function parseRuntimeVersion(raw: string): Parsed<RuntimeVersion | undefined> {
  const v = raw.trim();
  if (v === '') return ok(undefined);
  const m = /^([a-z0-9-]+):\/\/v?(\d+)\.(\d+)(?:\.(\d+))?(\S*)$/.exec(v);
  if (!m) return bad('<runtime>://<version>, e.g. containerd://2.1.5-k3s1');
  return ok({ runtime: m[1]!, major: Number(m[2]), minor: Number(m[3]), patch: Number(m[4] ?? 0), raw: v });
}

/** A path given as a flag: absolute, no NUL or newline. */
export function parseAbsolutePath(raw: string): Parsed<string> {
  if (!raw.startsWith('/') || hasControl(raw)) return bad('an absolute path');
  const normal = raw.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
  if (normal.split('/').includes('..')) return bad('an absolute path without ".."');
  return ok(normal);
}

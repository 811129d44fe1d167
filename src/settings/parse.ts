/**
 * Parsers for the value formats of kata-deploy's environment variables. Each takes the raw string (empty means
 * unset, as upstream treats it) and returns the parsed value or a description of what is accepted; the schema
 * turns the latter into an error that names the variable and the value.
 */
import { quoteValue } from '../errors/echo.js';
import { isSupportedContainerd, SUPPORTED_CONTAINERD } from '../containerd/config/version.js';
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
/** C0 and C1 control characters (U+0085 NEL among them), DEL, and the Unicode line and paragraph separators. */
const CONTROL = /[\p{Cc}\u2028\u2029]/u;
const hasControl = (s: string): boolean => CONTROL.test(s);
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
    if (!SHIM_NAME.test(name) || !isKnown(name))
      return bad(`known shim names only; ${quoteValue(name)} is not one`);
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
      return bad(`${format}; ${quoteValue(entry)} is not one`);
    }
    if (map.has(shim)) return bad(`${format}; ${quoteValue(shim)} appears twice`);
    map.set(shim, value);
  }
  return ok(map);
}

export const isSnapshotterName = (v: string): boolean => v.length <= 128 && SNAPSHOTTER_NAME.test(v);

/** A comma-separated list of shim names (`EXPERIMENTAL_FORCE_GUEST_PULL_<ARCH>`). */
export function parseCommaShims(raw: string): Parsed<string[]> {
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const name of names) {
    if (!SHIM_NAME.test(name))
      return bad(`a comma-separated list of shim names; ${quoteValue(name)} is not one`);
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
      if (!ANNOTATION.test(entry)) return bad(`${accepted}; ${quoteValue(entry)} is not one`);
      global.push(entry);
      continue;
    }
    const shim = entry.slice(0, colon);
    const names = entry
      .slice(colon + 1)
      .split(',')
      .filter((s) => s !== '');
    if (!SHIM_NAME.test(shim) || names.length === 0 || !names.every((n) => ANNOTATION.test(n))) {
      return bad(`${accepted}; ${quoteValue(entry)} is not one`);
    }
    perShim.set(shim, [...(perShim.get(shim) ?? []), ...names]);
  }
  return ok({ global, perShim });
}

/** The longest proxy value: it shares the guest kernel command line (2048 bytes on most architectures). */
export const MAX_PROXY_VALUE = 1024;

/**
 * `AGENT_HTTPS_PROXY` / `AGENT_NO_PROXY`: one value, or `shim=value;shim2=value` (a `=` selects the latter),
 * one entry per shim.
 */
export function parseProxy(raw: string): Parsed<ProxySetting | undefined> {
  if (raw === '') return ok(undefined);
  const rules = `at most ${MAX_PROXY_VALUE} characters, no whitespace, control characters, quotes, backslashes, \`$\` or \`;\` inside a value (it goes on the guest kernel command line)`;
  const unusable = (value: string) => value.length > MAX_PROXY_VALUE || unsafeValue(value);
  if (!raw.includes('=')) {
    return unusable(raw) ? bad(`one proxy value with ${rules}`) : ok({ kind: 'global', value: raw });
  }
  const format = `a value, or shim=value entries separated by ";", one per shim, with ${rules}`;
  const values = new Map<string, string>();
  for (const entry of raw.split(';').filter((s) => s !== '')) {
    const eq = entry.indexOf('=');
    const shim = entry.slice(0, eq);
    const value = entry.slice(eq + 1);
    if (eq <= 0 || !SHIM_NAME.test(shim) || value === '' || unusable(value)) {
      return bad(`${format}; ${quoteValue(entry)} is not one`);
    }
    if (values.has(shim)) return bad(`${format}; ${quoteValue(shim)} appears twice`);
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

/**
 * `CONTAINER_RUNTIME_VERSION`: `containerd://<major>.<minor>[.<patch>][-extra]`, a release kata-deploy can
 * configure. Another runtime, a release outside that range or a number too large to be exact is refused here,
 * before anything on the node is read.
 */
export function parseRuntimeVersion(raw: string): Parsed<RuntimeVersion | undefined> {
  const v = raw.trim();
  if (v === '') return ok(undefined);
  const accepted = `containerd://<major>.<minor>[.<patch>][-extra] of containerd ${SUPPORTED_CONTAINERD}, e.g. containerd://2.1.5-k3s1`;
  const m = /^([a-z0-9-]+):\/\/v?(\d+)\.(\d+)(?:\.(\d+))?([-+~][\x21-\x7e]*)?$/.exec(v);
  if (!m) return bad(accepted);
  const [major, minor, patch] = [m[2], m[3], m[4] ?? '0'].map(Number) as [number, number, number];
  if (m[1] !== 'containerd') return bad(`${accepted} (CRI-O and other runtimes are not supported)`);
  if (![major, minor, patch].every(Number.isSafeInteger)) return bad(`${accepted} (each number below 2^53)`);
  if (!isSupportedContainerd({ major, minor })) return bad(accepted);
  return ok({ runtime: m[1], major, minor, patch, raw: v });
}

/** Durations kata-deploy waits for at most: a day (also far below setTimeout's 2^31 ms limit). */
export const MAX_DURATION_MS = 86_400_000;

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** A duration as an error or a help text describes it: `1s`, `500ms`, `2m`. */
export function formatDuration(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** What a duration flag accepts, in the words every duration error and help text uses. */
export function durationForms(minMs: number): string {
  return `a duration from ${formatDuration(minMs)} to 24h: whole milliseconds (1500) or a number with ms, s or m (500ms, 1.5s, 2m)`;
}

/**
 * A duration flag (`--timeout`, `--restart-timeout`): a bare number is milliseconds; `ms`, `s` and `m` are
 * units. The result must be whole milliseconds between `minMs` and a day.
 */
export function parseDuration(raw: string, minMs: number): Parsed<number> {
  const m = /^(\d+)(?:(\.\d+)(ms|s|m)|(ms|s|m))?$/.exec(raw.trim());
  if (!m) return bad(durationForms(minMs));
  const number = Number(`${m[1]}${m[2] ?? ''}`);
  const ms = number * DURATION_UNITS[m[3] ?? m[4] ?? 'ms']!;
  if (!Number.isInteger(ms) || ms < minMs || ms > MAX_DURATION_MS) return bad(durationForms(minMs));
  return ok(ms);
}

/** A path given as a flag: absolute, no NUL or newline. */
export function parseAbsolutePath(raw: string): Parsed<string> {
  if (!raw.startsWith('/') || hasControl(raw)) return bad('an absolute path');
  const normal = raw.replace(/\/+/g, '/').replace(/(.)\/$/, '$1');
  if (normal.split('/').includes('..')) return bad('an absolute path without ".."');
  return ok(normal);
}

/**
 * The containerd config schema version and the containerd release; the root keys containerd decodes itself
 * (`version`, `imports`) and what it accepts in them.
 */
import { quoteValue, UsageError } from '../../errors/index.js';
import { formatValue, type TomlTable, type TomlValue } from './toml.js';

/**
 * The config's schema version: the first root-level `version = N` before any table header (comments and
 * Go-template lines ignored). A config without one is version 1, as containerd reads it. A value that is not a
 * version number gives undefined here; `checkRootKeys` refuses it before the file is edited.
 */
export function configVersionOf(text: string): number | undefined {
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/#.*$/, '').trim();
    if (line.startsWith('[')) return undefined;
    const m = /^version\s*=\s*(.*)$/.exec(line);
    if (m) return versionNumber(m[1]!.replace(/_/g, ''));
  }
  return undefined;
}

/** TOML's integer forms (`3`, `+3`, `0x3`, `0o3`, `0b11`). */
function versionNumber(literal: string): number | undefined {
  const n = /^\+?\d+$|^0x[0-9a-f]+$|^0o[0-7]+$|^0b[01]+$/i.test(literal) ? Number(literal) : NaN;
  return isConfigVersion(n) ? n : undefined;
}

/** A config schema version: 1 and 2 (containerd 1.x), 2 and 3 (2.x), and later ones as later releases add them. */
function isConfigVersion(value: unknown): value is number {
  const n = typeof value === 'bigint' ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 1;
}

/**
 * Refuses (exit 2, nothing written) a config whose `version` or `imports` containerd itself would refuse to
 * decode: kata-deploy would otherwise write its part into a file that cannot load, or edit `imports` on a guess.
 */
export function checkRootKeys(doc: TomlTable, file: string): void {
  const refuse = (key: string, value: TomlValue, expected: string) =>
    new UsageError(`${file}: ${key} = ${echoToml(value)} is not valid: expected ${expected}`, {
      input: `${file}: ${key}`,
      hint: 'fix the file (containerd would refuse it too), then run kata-deploy again; nothing was changed',
    });
  const version = doc['version'];
  if (version !== undefined && !isConfigVersion(version)) {
    throw refuse(
      'version',
      version,
      'a whole number from 1 (2 or 3 for the configs containerd 1.7 and 2.x write)',
    );
  }
  const imports = doc['imports'];
  if (imports !== undefined && !(Array.isArray(imports) && imports.every((e) => typeof e === 'string'))) {
    throw refuse(
      'imports',
      imports,
      'a list of file paths or globs as strings, e.g. ["/etc/containerd/conf.d/*.toml"]',
    );
  }
}

/** A TOML value as an error line shows it: strings quoted and cut like every echoed value, the rest cut too. */
function echoToml(value: TomlValue): string {
  if (typeof value === 'string') return quoteValue(value);
  const text = formatValue(value);
  return text.length > 200 ? `${text.slice(0, 200)}… (${text.length} characters)` : text;
}

export interface ContainerdVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly raw: string;
}

/** Parses `containerd --version` (`containerd github.com/containerd/containerd/v2 v2.1.9 <rev>`) or `1.7.24`. */
export function parseContainerdVersion(text: string): ContainerdVersion | undefined {
  for (const token of text.trim().split(/\s+/)) {
    if (token.includes('/')) continue;
    const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(token);
    if (m) return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), raw: token };
  }
  return undefined;
}

/** The containerd releases kata-deploy knows how to configure: 1.6 and 1.7 (config v1/v2) and 2.x (v2/v3). */
export const SUPPORTED_CONTAINERD = '1.6, 1.7 or 2.x';

export function isSupportedContainerd(v: Pick<ContainerdVersion, 'major' | 'minor'>): boolean {
  return (v.major === 1 && v.minor >= 6) || v.major === 2;
}

export function formatVersion(v: ContainerdVersion): string {
  return `${v.major}.${v.minor}.${v.patch}`;
}

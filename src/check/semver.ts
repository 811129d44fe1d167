/** Semantic versions (semver.org 2.0.0) as far as the release check needs them: parse, compare, classify. */

export interface SemVer {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  /** Pre-release identifiers (`rc0` in `3.2.0-rc0`); empty for a release. Build metadata is dropped. */
  readonly pre: readonly (string | number)[];
}

const SEMVER =
  /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

/** Parses `1.2.3`, `v1.2.3`, `1.2.3-rc.1+build`; undefined for anything else. */
export function parseSemVer(text: string): SemVer | undefined {
  const m = SEMVER.exec(text.trim());
  if (!m) return undefined;
  const [major, minor, patch] = [m[1], m[2], m[3]].map(Number) as [number, number, number];
  if (![major, minor, patch].every(Number.isSafeInteger)) return undefined;
  const pre = m[4] === undefined ? [] : m[4].split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  return { major, minor, patch, pre };
}

export function formatSemVer(v: SemVer): string {
  const core = `${v.major}.${v.minor}.${v.patch}`;
  return v.pre.length > 0 ? `${core}-${v.pre.join('.')}` : core;
}

/** Precedence order: negative when a < b, 0 when equal (build metadata ignored), positive when a > b. */
export function compareSemVer(a: SemVer, b: SemVer): number {
  const core = a.major - b.major || a.minor - b.minor || a.patch - b.patch;
  if (core !== 0) return Math.sign(core);
  if (a.pre.length === 0 || b.pre.length === 0) return Math.sign(b.pre.length - a.pre.length);
  for (let i = 0; i < Math.max(a.pre.length, b.pre.length); i++) {
    const x = a.pre[i];
    const y = b.pre[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return Math.sign(x - y);
    if (typeof x === 'number') return -1;
    if (typeof y === 'number') return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * How much newer `latest` is than `current`, in upstream's words ("major", "minor pre-release", …), or
 * '' for the final release of the pre-release we run (upstream calls that "major"). Undefined when
 * `latest` is not newer.
 */
export function newReleaseType(current: SemVer, latest: SemVer): string | undefined {
  if (compareSemVer(latest, current) <= 0) return undefined;
  const pre = latest.pre.length > 0 ? ' pre-release' : '';
  if (latest.major > current.major) return `major${pre}`;
  if (latest.major === current.major && latest.minor > current.minor) return `minor${pre}`;
  if (latest.major === current.major && latest.minor === current.minor && latest.patch > current.patch) {
    return `patch${pre}`;
  }
  // Same core version: a later pre-release, or the release that follows our pre-release.
  return latest.pre.length > 0 ? 'pre-release' : '';
}

/** The containerd config schema version and the containerd release, read from text only. */

/**
 * The config's schema version: the first root-level `version = N` before any table header (comments and
 * Go-template lines ignored). A config without one is version 1, as containerd reads it.
 */
export function configVersionOf(text: string): number | undefined {
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/#.*$/, '').trim();
    if (line.startsWith('[')) return undefined;
    const m = /^version\s*=\s*(\d+)$/.exec(line);
    if (m) return Number(m[1]);
  }
  return undefined;
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

export function formatVersion(v: ContainerdVersion): string {
  return `${v.major}.${v.minor}.${v.patch}`;
}

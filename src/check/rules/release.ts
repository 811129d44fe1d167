/**
 * The release rule: is there a Kata Containers release newer than the one kata-deploy bundles? It never
 * fails: an unreachable network or a rate limit is a WARN, so a capable host stays capable. Pure.
 */
import { compareSemVer, formatSemVer, newReleaseType, parseSemVer, type SemVer } from '../semver.js';
import type { Finding, ReleaseFetch } from '../types.js';
import { pass, skip, warn } from './finding.js';

const ID = 'release';
const OFFLINE_HINT = 'allow HTTPS to api.github.com, or skip this check with --no-network-checks';

export function releaseRule(fetched: ReleaseFetch, bundled: string, includePrereleases: boolean): Finding {
  const current = parseSemVer(bundled);
  if (current === undefined) return warn(ID, `bundled Kata Containers version "${bundled}" is not a semver`);
  switch (fetched.kind) {
    case 'skipped':
      return skip(ID, `release check skipped (${fetched.reason})`);
    case 'rate-limited':
      return warn(
        ID,
        'cannot check for newer releases: the GitHub API rate limit is exceeded',
        'try again later',
      );
    case 'error':
      return warn(ID, `cannot check for newer releases: ${fetched.message}`, OFFLINE_HINT);
    case 'ok':
      break;
  }
  const versions: { version: SemVer; url: string; date: string }[] = [];
  for (const r of fetched.releases) {
    const version = parseSemVer(r.tag);
    if (version === undefined || r.draft) continue;
    if (!includePrereleases && (r.prerelease || version.pre.length > 0)) continue;
    versions.push({ version, url: r.url, date: r.date });
  }
  if (versions.length === 0) return pass(ID, 'No releases available');
  const newest = versions.reduce((a, b) => (compareSemVer(b.version, a.version) > 0 ? b : a));
  const type = newReleaseType(current, newest.version);
  if (type === undefined) {
    return pass(
      ID,
      `No newer release available (kata-deploy bundles Kata Containers ${formatSemVer(current)})`,
    );
  }
  return warn(
    ID,
    `Newer ${releaseWords(type)} available: ${formatSemVer(newest.version)} (url: ${newest.url}, date: ${newest.date})`,
    `kata-deploy bundles Kata Containers ${formatSemVer(current)}; upgrade kata-deploy to get the newer release`,
  );
}

/** "minor release", "minor pre-release", or just "release" for the final release of our pre-release. */
function releaseWords(type: string): string {
  if (type === '') return 'release';
  return type.endsWith('pre-release') ? type : `${type} release`;
}

/** The check as one call: observe the host through a `HostFacts` reader, then evaluate the rules. */
import { evaluate } from './evaluate.js';
import { findMkfsErofs, gatherErofsFacts, SYSTEMD_DEFAULT_PATH, type RunVersion } from './erofs-facts.js';
import { gatherFacts, type HostFacts } from './facts.js';
import { erofsFindings, type ErofsWants } from './rules/erofs.js';
import type { CheckReport, Hypervisor } from './types.js';
import { readBaseline, type Baseline } from './release-baseline.js';
import { warn } from './rules/finding.js';

/** Where the payload's versions.yaml is: in kata-deploy's image, then in the install dir (under `root`). */
export function versionsYamlCandidates(root: string): string[] {
  const installed = `${root === '/' ? '' : root}/opt/kata/versions.yaml`;
  return root === '/' ? ['/opt/kata-artifacts/versions.yaml', installed] : [installed];
}

export interface CheckOptions {
  readonly hypervisor?: Hypervisor;
  /** Why the release check is skipped (`--no-network-checks`, KATA_CHECK_NO_NETWORK); undefined runs it. */
  readonly skipReleaseCheck?: string;
  /** Count pre-releases as candidates for "newer release available". @default false */
  readonly includePrereleases?: boolean;
  /** The release the release check compares with. @default read from the payload's versions.yaml */
  readonly kataVersion?: string;
  /** Where versions.yaml is looked for. @default versionsYamlCandidates(host.root) */
  readonly versionsYaml?: readonly string[];
  /** @default the GitHub releases API of kata-containers/kata-containers */
  readonly releasesUrl?: string;
  /** @default RELEASE_CHECK_TIMEOUT_MS (3 s) */
  readonly releaseTimeoutMs?: number;
  /** Also check what the erofs snapshotter needs (`EXPERIMENTAL_SETUP_SNAPSHOTTER=erofs`). */
  readonly erofs?: ErofsWants & {
    /** Runs `mkfs.erofs --version` (with a deadline); without it the version is not checked. */
    readonly runVersion?: RunVersion;
  };
}

export async function runCheck(host: HostFacts, options: CheckOptions = {}): Promise<CheckReport> {
  const facts = await gatherFacts(host, {
    probeKvm: options.hypervisor !== 'remote',
    ...(options.skipReleaseCheck === undefined ? {} : { skipReleaseCheck: options.skipReleaseCheck }),
    ...(options.releasesUrl === undefined ? {} : { releasesUrl: options.releasesUrl }),
    ...(options.releaseTimeoutMs === undefined ? {} : { releaseTimeoutMs: options.releaseTimeoutMs }),
  });
  const extra =
    options.erofs === undefined
      ? []
      : erofsFindings(
          gatherErofsFacts(
            host,
            host.root === '/' && options.erofs.runVersion !== undefined
              ? await findMkfsErofs(
                  [...new Set([...(process.env['PATH'] ?? '').split(':'), ...SYSTEMD_DEFAULT_PATH])]
                    .filter((d) => d.startsWith('/'))
                    .map((d) => ({ node: d, here: d })),
                  options.erofs.runVersion,
                )
              : { kind: 'not-run', reason: 'a fixture tree: no program is run' },
          ),
          options.erofs,
        );
  const baseline: Baseline =
    options.kataVersion !== undefined
      ? { kind: 'known', version: options.kataVersion, source: 'the caller' }
      : await readBaseline(options.versionsYaml ?? versionsYamlCandidates(host.root));
  const report = evaluate(facts, {
    extra,
    ...(options.hypervisor === undefined ? {} : { hypervisor: options.hypervisor }),
    // Compared only when known; an unknown baseline's finding replaces the comparison below.
    kataVersion: baseline.kind === 'known' ? baseline.version : '0.0.0',
    includePrereleases: options.includePrereleases ?? false,
  });
  if (baseline.kind === 'known' || facts.release.kind !== 'ok') return report;
  // No baseline read: say so (a warning never fails a capable host) instead of comparing with a guess.
  const unknown = warn(
    'release',
    'cannot tell whether a newer Kata Containers release exists: the release kata-deploy installs is not known',
    `${baseline.reasons.join('; ')}; the payload's versions.yaml names it as kata-containers: version:`,
  );
  return { ...report, checks: report.checks.map((f) => (f.id === 'release' ? unknown : f)) };
}

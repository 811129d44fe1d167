/** The check as one call: observe the host through a `HostFacts` reader, then evaluate the rules. */
import { evaluate } from './evaluate.js';
import { findMkfsErofs, gatherErofsFacts, SYSTEMD_DEFAULT_PATH, type RunVersion } from './erofs-facts.js';
import { gatherFacts, type HostFacts } from './facts.js';
import { erofsFindings, type ErofsWants } from './rules/erofs.js';
import type { CheckReport, Hypervisor } from './types.js';

/**
 * The Kata Containers release this kata-deploy installs; the release check compares it with the newest
 * release. Keep it in step with the payload's versions.yaml.
 */
export const BUNDLED_KATA_VERSION = '3.20.0';

export interface CheckOptions {
  readonly hypervisor?: Hypervisor;
  /** Why the release check is skipped (`--no-network-checks`, KATA_CHECK_NO_NETWORK); undefined runs it. */
  readonly skipReleaseCheck?: string;
  /** Count pre-releases as candidates for "newer release available". @default false */
  readonly includePrereleases?: boolean;
  /** @default BUNDLED_KATA_VERSION */
  readonly kataVersion?: string;
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
  return evaluate(facts, {
    extra,
    ...(options.hypervisor === undefined ? {} : { hypervisor: options.hypervisor }),
    kataVersion: options.kataVersion ?? BUNDLED_KATA_VERSION,
    includePrereleases: options.includePrereleases ?? false,
  });
}

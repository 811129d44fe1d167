/** The verdict, derived from the findings alone. Pure. */
import type { Finding, Hypervisor, Verdict } from '../types.js';

export interface VerdictResult {
  readonly verdict: Verdict;
  readonly usable: Hypervisor[];
  readonly message: string;
}

export const CAPABLE_MESSAGE = 'System is capable of running Kata Containers';
export const NOT_CAPABLE_MESSAGE = 'System is not capable of running Kata Containers';

/**
 * A FAIL rules out every candidate hypervisor; a WARN with `blocks` rules out those it names. The host is
 * capable when no FAIL is left and at least one candidate remains, unless a rule could not decide.
 */
export function decideVerdict(
  findings: readonly Finding[],
  candidates: readonly Hypervisor[],
): VerdictResult {
  const failed = findings.some((f) => f.status === 'fail');
  const blocked = new Set(findings.filter((f) => f.status === 'warn').flatMap((f) => f.blocks ?? []));
  const usable = failed ? [] : candidates.filter((h) => !blocked.has(h));
  if (usable.length === 0) return { verdict: 'not-capable', usable, message: NOT_CAPABLE_MESSAGE };
  const undecided = findings.find((f) => f.undecided);
  if (undecided) {
    return {
      verdict: 'unknown',
      usable,
      message: `Cannot tell whether this system can run Kata Containers: ${undecided.message}`,
    };
  }
  const excluded = candidates.filter((h) => !usable.includes(h));
  const suffix =
    excluded.length > 0
      ? ` with ${usable.join(', ')} (not with ${excluded.join(', ')})`
      : candidates.length === 1
        ? ` with ${usable.join('')}`
        : '';
  return { verdict: 'capable', usable, message: `${CAPABLE_MESSAGE}${suffix}` };
}

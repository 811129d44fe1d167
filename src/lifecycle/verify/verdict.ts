/**
 * The verdict on a restart (install: "containerd serves the handlers"; cleanup: "it no longer serves them"),
 * from what was observed. Pure: the gatherers decide what each source showed, this decides what it means.
 *
 * Install's restart succeeded only when containerd answers, its CRI plugin serves every handler, and, where a
 * `containerd config dump` can be run, the effective configuration holds them. A CRI plugin that served before
 * the restart and does not serve the handlers after it is a failed restart, to be undone. A CRI plugin that did
 * not serve before either leaves install unable to tell: the verdict is unknown, and nothing is rolled back.
 *
 * For cleanup a CRI plugin that does not serve at all is positive evidence that it serves none of the handlers.
 * A containerd that is not running serves nothing now; that passes only when the configuration it loads on its
 * next start (the config dump) is seen without the handlers.
 */
import {
  describeMissing,
  failed,
  judge,
  notSeen,
  seen,
  type Evidence,
  type EvidenceKind,
  type Verdict,
} from '../../evidence/index.js';

export type Expectation = 'present' | 'absent';

/** containerd on its socket. `down`: nothing listens there; `failed`: something went wrong asking it. */
export type ContainerdAnswer =
  | { readonly state: 'answers'; readonly version: string }
  | { readonly state: 'down'; readonly reason: string }
  | { readonly state: 'failed'; readonly reason: string };

/** containerd's CRI plugin. `not-serving`: its service is not registered (disabled, or it failed to load). */
export type CriObservation =
  | { readonly state: 'serves'; readonly handlers: readonly string[] }
  | { readonly state: 'not-serving'; readonly reason: string }
  | { readonly state: 'failed'; readonly reason: string };

/** `containerd config dump` of the configuration on disk; `not-applicable` where it cannot be run. */
export type DumpObservation =
  | { readonly state: 'seen'; readonly handlers: readonly string[] }
  | { readonly state: 'not-applicable'; readonly reason: string }
  | { readonly state: 'failed'; readonly reason: string };

export interface RestartFacts {
  readonly expect: Expectation;
  readonly handlers: readonly string[];
  /** CRI before this run changed anything; undefined when it was not probed (no restart in this run). */
  readonly criBefore: CriObservation | undefined;
  readonly containerd: ContainerdAnswer;
  /** CRI now; undefined when containerd was not asked (it does not answer). */
  readonly cri: CriObservation | undefined;
  readonly dump: DumpObservation;
}

export interface RestartVerification {
  readonly expect: Expectation;
  readonly handlers: readonly string[];
  readonly verdict: Verdict;
  /** Every source the verdict rests on, seen or not. */
  readonly evidence: readonly Evidence[];
  /** What was seen against the expectation ("the CRI runtime status lacks kata-qemu"). */
  readonly against: readonly string[];
  /** One line per source that was not seen. */
  readonly missing: readonly string[];
  /** A failed restart to undo: negative, for install, with CRI seen serving before this run changed anything. */
  readonly rollback: boolean;
}

const CRI = 'CRI runtime handlers';
const DUMP = 'containerd config dump';

/** The handlers the expectation is not met for, in `found`. */
function mismatched(found: readonly string[], facts: RestartFacts): string[] {
  return facts.handlers.filter((h) => found.includes(h) !== (facts.expect === 'present'));
}

function criEvidence(facts: RestartFacts, against: string[]): Evidence {
  const { cri, expect, criBefore } = facts;
  if (cri === undefined) {
    if (expect === 'absent' && facts.containerd.state === 'down')
      return seen('cri-handlers', CRI, `containerd is not running, so nothing serves the handlers now`);
    return notSeen('cri-handlers', CRI, 'not asked: containerd does not answer');
  }
  if (cri.state === 'failed') return failed('cri-handlers', CRI, `the CRI status call failed: ${cri.reason}`);
  if (cri.state === 'serves') {
    const bad = mismatched(cri.handlers, facts);
    if (bad.length > 0)
      against.push(
        `the CRI runtime status ${expect === 'present' ? 'lacks' : 'still lists'} ${bad.join(', ')}`,
      );
    return seen('cri-handlers', CRI, `the CRI plugin serves ${cri.handlers.join(', ') || 'no handler'}`);
  }
  if (expect === 'absent')
    return seen('cri-handlers', CRI, `the CRI plugin does not serve at all (${cri.reason}), so none of them`);
  if (criBefore?.state === 'serves') {
    against.push(`the CRI plugin no longer serves after the restart (${cri.reason})`);
    return seen('cri-handlers', CRI, `the CRI plugin served before the restart and does not now`);
  }
  const before =
    criBefore === undefined
      ? ''
      : criBefore.state === 'not-serving'
        ? '; it did not before the restart either'
        : `; whether it did before the restart is not known (${criBefore.reason})`;
  return notSeen(
    'cri-handlers',
    CRI,
    `the CRI plugin does not serve on containerd's socket (${cri.reason})${before}`,
    'enable containerd’s CRI plugin (Kubernetes uses it) and run install again; without it nobody can tell whether the handlers are served',
  );
}

function dumpEvidence(facts: RestartFacts, against: string[]): Evidence | undefined {
  const { dump, expect } = facts;
  if (dump.state === 'failed') return failed('config-dump', DUMP, dump.reason);
  if (dump.state === 'not-applicable') {
    // Only a cleanup that found containerd down rests on the dump alone; elsewhere it counts where it applies.
    if (expect === 'absent' && facts.containerd.state === 'down')
      return notSeen('config-dump', DUMP, dump.reason, 'start containerd and run cleanup again');
    return undefined;
  }
  const bad = mismatched(dump.handlers, facts);
  if (bad.length > 0)
    against.push(`${DUMP} ${expect === 'present' ? 'lacks' : 'still has'} ${bad.join(', ')}`);
  return seen(
    'config-dump',
    DUMP,
    `the effective configuration defines ${dump.handlers.filter((h) => facts.handlers.includes(h)).join(', ') || 'none of the handlers'}`,
  );
}

function containerdEvidence(facts: RestartFacts): Evidence | undefined {
  const c = facts.containerd;
  if (c.state === 'answers') return seen('containerd-answers', 'containerd', `answers (${c.version})`);
  // A cleanup with containerd down folds that into the CRI source: nothing serves now.
  if (c.state === 'down')
    return facts.expect === 'absent' ? undefined : notSeen('containerd-answers', 'containerd', c.reason);
  return failed('containerd-answers', 'containerd', c.reason);
}

/** The verdict: negative when anything seen speaks against it, else positive only on complete evidence. */
export function judgeRestart(facts: RestartFacts): RestartVerification {
  const against: string[] = [];
  const evidence = [
    containerdEvidence(facts),
    criEvidence(facts, against),
    dumpEvidence(facts, against),
  ].filter((e): e is Evidence => e !== undefined);
  const required: EvidenceKind[] =
    facts.expect === 'absent' && facts.containerd.state === 'down'
      ? ['cri-handlers', 'config-dump']
      : [
          'containerd-answers',
          'cri-handlers',
          ...(facts.dump.state === 'not-applicable' ? [] : ['config-dump' as const]),
        ];
  const verdict: Verdict = against.length > 0 ? 'negative' : judge(evidence, required, []);
  return {
    expect: facts.expect,
    handlers: facts.handlers,
    verdict,
    evidence,
    against,
    missing: describeMissing(evidence, required),
    rollback: verdict === 'negative' && facts.expect === 'present' && facts.criBefore?.state === 'serves',
  };
}

/** For the text output: "check: POSITIVE …", "check: UNKNOWN: …; …". */
export function describeVerification(v: RestartVerification): string {
  const what = v.expect === 'present' ? 'containerd serves' : 'containerd no longer serves';
  const head = `check that ${what} ${v.handlers.join(', ')}: ${v.verdict.toUpperCase()}`;
  const lines = [...v.against, ...v.missing].map((l) => `  ${l}`);
  return lines.length === 0 ? head : `${head}\n${lines.join('\n')}`;
}

/**
 * The wipe gate, pure: may a snapshotter's data dir be wiped? Two decisions, both on evidence only.
 *
 * `decideWipe` runs while the snapshotter still runs. When the snapshotter and containerd both answer, the
 * cleanup engine has removed the records no workload needs; the dir may go only if its verdict is clean and a
 * doctor pass (meta.db against the snapshotter's own inventory) finds nothing left. When the snapshotter is
 * positively stopped, or containerd is down, meta.db read from a path that was found decides: zero records
 * of the snapshotter in every namespace. A snapshotter that does not answer in time is a running one; a
 * meta.db that was not found, or not read, is not "empty". Either keeps the dir.
 *
 * `confirmWipe` runs after the snapshotter was stopped: this run's verdict was `wipe-safe`, the snapshotter
 * is now positively stopped, and meta.db, read once more, still holds nothing of it (a pull may have slipped
 * in between).
 */
import {
  describeMissing,
  failed,
  judge,
  notSeen,
  seen,
  type Evidence,
  type EvidenceKind,
} from '../../evidence/index.js';
import type { CleanVerdict } from '../../snapshots/types.js';
import type { HeldBy, SnapshotterOutcome } from './outcome.js';

/** What meta.db said about the snapshotter, read from a located path. */
export interface MetaDbReading {
  /** The locator's evidence, or `failed` when the read itself failed. */
  readonly evidence: Evidence;
  /** Records of the snapshotter across all namespaces; undefined unless the evidence is seen. */
  readonly records: number | undefined;
  /** `ns (n)` for each namespace with records. */
  readonly namespaces: readonly string[];
}

export type SnapshotterState =
  | { readonly state: 'answers' }
  | { readonly state: 'stopped'; readonly detail: string }
  | { readonly state: 'unresponsive'; readonly detail: string };

export interface EngineReading {
  readonly clean: CleanVerdict;
  readonly reasons: readonly string[];
  readonly evidence: readonly Evidence[];
}

export interface DoctorReading {
  readonly healthy: boolean | 'unknown';
  readonly records: number;
  readonly stale: number;
  readonly evidence: readonly Evidence[];
}

export interface WipeGateInput {
  readonly snapshotter: string;
  readonly dataDir: string;
  readonly socket: string;
  readonly metaDb: MetaDbReading;
  readonly snapshotterState: SnapshotterState;
  readonly containerdAnswers: boolean;
  /**
   * containerd has the snapshotter loaded (false: not loaded, so nothing can be cleaned through containerd and
   * meta.db decides alone). Undefined when containerd does not answer.
   */
  readonly loadedInContainerd?: boolean | undefined;
  /** The cleanup engine's result; present exactly when it ran (snapshotter and containerd answered). */
  readonly engine?: EngineReading | undefined;
  /** The doctor pass after a clean engine verdict. */
  readonly doctor?: DoctorReading | undefined;
  /** Containers whose snapshots hold records, with their task state (`unknown` when tasks could not be listed). */
  readonly heldBy: readonly HeldBy[];
  /** Whether the task listing behind `heldBy` succeeded. */
  readonly tasks: Evidence;
}

function stateEvidence(snapshotter: string, socket: string, s: SnapshotterState): Evidence {
  const subject = `snapshotter ${snapshotter}`;
  if (s.state === 'answers') return seen('snapshotter-state', subject, `answers on ${socket}`);
  if (s.state === 'stopped') return seen('snapshotter-state', subject, `stopped: ${s.detail}`);
  return failed(
    'snapshotter-state',
    subject,
    `does not answer in time (${s.detail}); a slow snapshotter is still a running one`,
    "check the snapshotter's service; its data is kept until it answers or is stopped",
  );
}

const base = (input: WipeGateInput) => ({ snapshotter: input.snapshotter, dataDir: input.dataDir });

export function decideWipe(input: WipeGateInput): SnapshotterOutcome {
  const evidence: Evidence[] = [
    input.metaDb.evidence,
    stateEvidence(input.snapshotter, input.socket, input.snapshotterState),
  ];
  const against: string[] = [];
  let required: EvidenceKind[] = ['meta-db', 'snapshotter-state'];
  let source: SnapshotterOutcome['source'] = 'meta.db';
  const viaEngine =
    input.snapshotterState.state === 'answers' &&
    input.containerdAnswers &&
    input.loadedInContainerd !== false;
  if (viaEngine) {
    source = 'engine';
    // The backend's inventory is asked only after a clean verdict (the doctor pass), and recorded then.
    required = [...required, 'snapshotter-loaded', 'namespaces', 'tasks'];
    if (input.engine === undefined) {
      evidence.push(notSeen('namespaces', 'the cleanup engine', 'did not run'));
    } else {
      evidence.push(...input.engine.evidence);
      if (input.engine.clean === false) against.push(...input.engine.reasons);
      if (input.engine.clean === true) {
        if (input.doctor === undefined)
          evidence.push(notSeen('backend-inventory', 'the doctor pass', 'did not run'));
        else {
          evidence.push(...input.doctor.evidence);
          if (input.doctor.records > 0 || input.doctor.stale > 0)
            against.push(
              `the doctor still finds ${input.doctor.records} records (${input.doctor.stale} stale) after a clean verdict`,
            );
        }
      }
    }
  } else {
    if (!input.containerdAnswers)
      evidence.push(seen('containerd-answers', 'containerd', 'does not answer: meta.db decides on its own'));
    else if (input.loadedInContainerd === false)
      evidence.push(
        seen(
          'snapshotter-loaded',
          `snapshotter ${input.snapshotter}`,
          'not loaded in containerd: meta.db decides on its own',
        ),
      );
    evidence.push(input.tasks);
  }
  if (input.metaDb.records !== undefined && input.metaDb.records > 0)
    against.push(
      `meta.db still holds ${input.metaDb.records} records of ${input.snapshotter} in ${input.metaDb.namespaces.join(', ')}`,
    );
  const verdict = judge(evidence, required, against);
  const reasons = verdict === 'positive' ? [] : [...against, ...describeMissing(evidence, required)];
  return {
    ...base(input),
    decision: verdict === 'positive' ? 'wipe-safe' : 'keep',
    source,
    records: input.metaDb.records,
    heldBy: input.heldBy,
    reasons: dedupe(reasons),
    evidence,
  };
}

export interface ConfirmInput {
  readonly snapshotter: string;
  readonly socket: string;
  /** This run's verdict from `decideWipe`. */
  readonly verdict: SnapshotterOutcome | undefined;
  readonly snapshotterState: SnapshotterState;
  readonly metaDb: MetaDbReading;
}

/** Whether the wipe may go ahead now; otherwise the reasons to keep the dir. */
export function confirmWipe(input: ConfirmInput): {
  proceed: boolean;
  reasons: string[];
  evidence: Evidence[];
} {
  if (input.verdict === undefined)
    return { proceed: false, reasons: ['no verdict on its records was reached in this run'], evidence: [] };
  if (input.verdict.decision !== 'wipe-safe')
    return { proceed: false, reasons: [...input.verdict.reasons], evidence: [] };
  const evidence = [input.metaDb.evidence];
  const state = input.snapshotterState;
  evidence.push(
    state.state === 'stopped'
      ? seen('snapshotter-state', `snapshotter ${input.snapshotter}`, `stopped: ${state.detail}`)
      : failed(
          'snapshotter-state',
          `snapshotter ${input.snapshotter}`,
          state.state === 'answers'
            ? `still answers on ${input.socket}; it was not stopped`
            : `is not known to be stopped (${state.detail})`,
        ),
  );
  const against =
    input.metaDb.records !== undefined && input.metaDb.records > 0
      ? [
          `checked again before the wipe: meta.db holds ${input.metaDb.records} records in ${input.metaDb.namespaces.join(', ')}`,
        ]
      : [];
  const verdict = judge(evidence, ['meta-db', 'snapshotter-state'], against);
  return {
    proceed: verdict === 'positive',
    reasons: verdict === 'positive' ? [] : [...describeMissing(evidence), ...against],
    evidence,
  };
}

function dedupe(lines: readonly string[]): string[] {
  return [...new Set(lines)];
}

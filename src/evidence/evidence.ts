/**
 * The evidence model behind every safety verdict: clean, stale, healthy, safe to wipe, restart succeeded.
 *
 * A verdict rests on *sources* (the snapshotter is loaded in containerd, the namespaces were enumerated,
 * meta.db was read from a path that was found, the backend's inventory came from the backend, tasks were
 * listed, CRI serves the handlers). Each source is recorded as `seen`, `not-seen` or `failed`, with how it was
 * seen or why not. A positive verdict needs every source it rests on to be `seen`; anything else makes it
 * `unknown`, and unknown keeps the data. Absence of evidence is never evidence of absence.
 *
 * Pure: no I/O. The code that gathers a source decides its status; the code here only judges.
 */

export type EvidenceStatus = 'seen' | 'not-seen' | 'failed';

/** The kinds of source a verdict can rest on. */
export type EvidenceKind =
  /** containerd has the snapshotter loaded (introspection lists it without an init error). */
  | 'snapshotter-loaded'
  /** Every namespace holding records of the snapshotter was examined. */
  | 'namespaces'
  /** containerd's meta.db was read, from a path that was found (flag, containerd, the runtime's own config). */
  | 'meta-db'
  /** The snapshotter's own inventory, from its socket or its own store at a root that was found. */
  | 'backend-inventory'
  /** containerd's task list, for every namespace whose containers matter. */
  | 'tasks'
  /** The snapshotter process is known to be stopped (no listener on its socket) or known to answer. */
  | 'snapshotter-state'
  /** containerd answers on its socket. */
  | 'containerd-answers'
  /** containerd's CRI plugin serves the runtime handlers (or no longer serves them). */
  | 'cri-handlers'
  /** The handlers are in containerd's effective configuration (`containerd config dump`). */
  | 'config-dump'
  /** Nothing is mounted below a directory about to be removed. */
  | 'mounts'
  /** The Node's Ready condition (DaemonSet mode, after the runtime's restart). */
  | 'node-ready'
  /** The Node's status.runtimeHandlers, as the kubelet reports them (DaemonSet mode). */
  | 'node-runtime-handlers'
  /** kata-deploy's own DaemonSet, read to tell a rolling restart from an uninstall. */
  | 'daemonset';

export interface Evidence {
  readonly kind: EvidenceKind;
  readonly status: EvidenceStatus;
  /** What exactly: "meta.db", "namespace default", "tasks in k8s.io". */
  readonly subject: string;
  /** How it was seen (a path and how the path was found), or why it was not. */
  readonly detail: string;
  /** What the operator can do to supply a missing source. */
  readonly hint?: string | undefined;
}

export const seen = (kind: EvidenceKind, subject: string, detail: string): Evidence => ({
  kind,
  status: 'seen',
  subject,
  detail,
});

export const notSeen = (kind: EvidenceKind, subject: string, detail: string, hint?: string): Evidence => ({
  kind,
  status: 'not-seen',
  subject,
  detail,
  ...(hint === undefined ? {} : { hint }),
});

export const failed = (kind: EvidenceKind, subject: string, detail: string, hint?: string): Evidence => ({
  kind,
  status: 'failed',
  subject,
  detail,
  ...(hint === undefined ? {} : { hint }),
});

/** The sources that are not `seen`: what keeps a verdict from being positive. */
function missingEvidence(evidence: readonly Evidence[]): Evidence[] {
  return evidence.filter((e) => e.status !== 'seen');
}

/**
 * True only when at least one source was recorded for every required kind and every recorded source was
 * seen. A kind nobody recorded counts as missing: a gatherer that forgot a source cannot make it positive.
 */
export function isComplete(evidence: readonly Evidence[], required: readonly EvidenceKind[]): boolean {
  if (evidence.some((e) => e.status !== 'seen')) return false;
  return required.every((kind) => evidence.some((e) => e.kind === kind));
}

/** The required kinds for which no source was recorded at all. */
function unrecordedKinds(evidence: readonly Evidence[], required: readonly EvidenceKind[]): EvidenceKind[] {
  return required.filter((kind) => !evidence.some((e) => e.kind === kind));
}

/** One line per missing source: "namespace default not examined: …; pass no --namespace to cover all". */
export function describeMissing(
  evidence: readonly Evidence[],
  required: readonly EvidenceKind[] = [],
): string[] {
  const lines = missingEvidence(evidence).map(
    (e) =>
      `${e.subject} ${e.status === 'failed' ? 'failed' : 'not seen'}: ${e.detail}${e.hint ? `; ${e.hint}` : ''}`,
  );
  for (const kind of unrecordedKinds(evidence, required)) lines.push(`${kind}: no source was examined`);
  return lines;
}

/** A three-way verdict: positive needs complete evidence; negative needs a seen reason against it. */
export type Verdict = 'positive' | 'negative' | 'unknown';

/**
 * The verdict of a gate: `negative` when something seen speaks against it (records left, a task running),
 * `unknown` when any source it rests on is missing, `positive` only when everything was seen and nothing
 * speaks against it.
 */
export function judge(
  evidence: readonly Evidence[],
  required: readonly EvidenceKind[],
  against: readonly string[],
): Verdict {
  if (!isComplete(evidence, required)) return 'unknown';
  return against.length > 0 ? 'negative' : 'positive';
}

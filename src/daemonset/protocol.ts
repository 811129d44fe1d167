/**
 * What a worker (the process that installs or cleans up) tells the supervisor over the IPC channel, and the
 * DaemonSet mode's result. Plain JSON: no Map, no bigint.
 */
import type { Evidence } from '../evidence/index.js';
import type { RestartVerification } from '../lifecycle/verify/verdict.js';
import type { SnapshotterOutcome } from '../lifecycle/snapshotters/outcome.js';
import type { LabelOutcome, TaintOutcome } from '../k8s/node-ops.js';
import type { Release } from '../k8s/labels.js';

export type WorkerStep = 'install' | 'cleanup';

/** A lifecycle run, summarised: each step as one line instead of the step with its file contents. */
export interface LifecycleSummary {
  readonly runtime: string;
  readonly containerd: string;
  readonly installDir: string;
  readonly handlers: readonly string[];
  readonly steps: readonly string[];
  readonly applied: number;
  readonly restarted: boolean;
  readonly snapshotters?: readonly SnapshotterOutcome[];
  readonly verification?: RestartVerification;
}

export interface InstallOutcome {
  readonly step: 'install';
  readonly node: string;
  readonly marker: string;
  readonly lifecycle: LifecycleSummary;
  /** The Node's Ready condition and status.runtimeHandlers after the install. */
  readonly nodeEvidence: readonly Evidence[];
  readonly labels: LabelOutcome;
  readonly taints: TaintOutcome;
}

export interface CleanupOutcome {
  readonly step: 'cleanup';
  readonly node: string;
  /** `kept`: the DaemonSet still selects the node (a rolling restart), or that could not be told. */
  readonly decision: 'uninstalled' | 'kept';
  readonly reason: string;
  readonly evidence: readonly Evidence[];
  readonly release?: Release;
  readonly lifecycle?: LifecycleSummary;
}

export interface WorkerError {
  readonly kind: string;
  readonly message: string;
  readonly input?: string;
  readonly hint?: string;
  readonly exitCode: number;
}

export type WorkerMessage =
  | {
      readonly type: 'done';
      readonly outcome: InstallOutcome | CleanupOutcome;
      readonly exitCode: number;
      readonly maxRssKiB: number;
    }
  | {
      readonly type: 'failed';
      readonly error: WorkerError;
      readonly interrupted: boolean;
      readonly maxRssKiB: number;
    };

/** One worker's run as the supervisor saw it. */
export interface WorkerReport {
  readonly step: WorkerStep;
  readonly exitCode: number;
  readonly outcome?: InstallOutcome | CleanupOutcome;
  readonly error?: WorkerError;
  readonly interrupted?: boolean;
  readonly maxRssKiB?: number;
}

export interface DaemonSetResult {
  readonly mode: 'daemonset';
  readonly node: string;
  readonly healthPort: number;
  readonly install: WorkerReport;
  /** The signal that ended the wait (or the install), if one came. */
  readonly signal?: string;
  readonly cleanup?: WorkerReport;
  readonly exitCode: number;
}

export function errorMessageOf(report: WorkerReport): string | undefined {
  if (report.error === undefined) return undefined;
  return report.error.hint ? `${report.error.message} (${report.error.hint})` : report.error.message;
}

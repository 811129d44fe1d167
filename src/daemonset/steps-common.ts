/** What the install and cleanup workers share: the context they run in and the lifecycle run's summary. */
import type { Host } from '../host/index.js';
import type { KubeApi } from '../k8s/api.js';
import type { NodeOpsContext } from '../k8s/node-ops.js';
import type { Timing } from '../k8s/timing.js';
import { describeStep, type RunResult, type Step } from '../lifecycle/index.js';
import type { Logger } from '../output/log.js';
import type { Settings } from '../settings/index.js';
import type { DaemonSetSettings } from '../settings/daemonset.js';
import type { LifecycleSummary } from './protocol.js';

export interface StepContext {
  readonly settings: Settings;
  readonly ds: DaemonSetSettings;
  readonly api: KubeApi;
  readonly host: Host;
  readonly log: Logger;
  readonly timing: Timing;
  /** Aborted when the supervisor asks the install to stop. */
  readonly signal: AbortSignal;
  /** Called before each lifecycle step (stops an aborted install; the test hook's delay). */
  readonly beforeStep: (index: number, step: Step) => Promise<void>;
}

export function nodeOps(ctx: StepContext): NodeOpsContext {
  return { api: ctx.api, node: ctx.settings.nodeName, timing: ctx.timing, log: ctx.log, signal: ctx.signal };
}

export function summarize(r: RunResult): LifecycleSummary {
  return {
    runtime: r.runtime,
    containerd: r.containerd,
    installDir: r.installDir,
    handlers: r.handlers,
    steps: r.steps.map((s) => describeStep(s)),
    applied: r.applied,
    restarted: r.steps.some((s) => s.kind === 'restartRuntime'),
    ...(r.snapshotters === undefined ? {} : { snapshotters: r.snapshotters }),
    ...(r.verification === undefined ? {} : { verification: r.verification }),
  };
}

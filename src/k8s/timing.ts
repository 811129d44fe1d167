/** How long the DaemonSet mode waits for what, in one place (upstream's numbers where it has them). */
import type { RetryPolicy } from './retry.js';

export interface Timing {
  /** Labels must be seen this many times in a row … */
  readonly labelChecks: number;
  /** … this far apart … */
  readonly labelCheckIntervalMs: number;
  /** … within this many attempts (a kubelet re-registering on k3s/rke2 can drop them). */
  readonly labelAttempts: number;
  /** After the runtime's restart: the Node must be Ready within … */
  readonly nodeReadyMs: number;
  /** … and list the kata handlers in status.runtimeHandlers within … */
  readonly handlersMs: number;
  /** … polled this often. */
  readonly pollMs: number;
  /** The deadline of every single API call. */
  readonly callTimeoutMs: number;
  /** The first call (the API may not be reachable yet when the pod starts). */
  readonly startup: RetryPolicy;
  /** Every later call; shorter, because a terminating pod has a grace period to keep. */
  readonly later: RetryPolicy;
  /** A precondition that keeps failing (409) because other writers keep changing the node. */
  readonly conflictAttempts: number;
}

export const DEFAULT_TIMING: Timing = {
  labelChecks: 6,
  labelCheckIntervalMs: 2000,
  labelAttempts: 12,
  nodeReadyMs: 300_000,
  handlersMs: 120_000,
  pollMs: 2000,
  callTimeoutMs: 10_000,
  startup: { budgetMs: 300_000, firstDelayMs: 1000, maxDelayMs: 30_000 },
  later: { budgetMs: 60_000, firstDelayMs: 500, maxDelayMs: 10_000 },
  conflictAttempts: 5,
};

/** Every duration multiplied by `scale` (the test hook KATA_DEPLOY_TEST_TIME_SCALE); counts unchanged. */
export function scaleTiming(t: Timing, scale: number): Timing {
  const ms = (v: number) => Math.max(1, Math.round(v * scale));
  const policy = (p: RetryPolicy): RetryPolicy => ({
    budgetMs: ms(p.budgetMs),
    firstDelayMs: ms(p.firstDelayMs),
    maxDelayMs: ms(p.maxDelayMs),
  });
  return {
    ...t,
    labelCheckIntervalMs: ms(t.labelCheckIntervalMs),
    nodeReadyMs: ms(t.nodeReadyMs),
    handlersMs: ms(t.handlersMs),
    pollMs: ms(t.pollMs),
    callTimeoutMs: ms(t.callTimeoutMs),
    startup: policy(t.startup),
    later: policy(t.later),
  };
}

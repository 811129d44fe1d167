/** The executor's side of the snapshotter steps: real I/O by default, replaceable in unit tests. */
import type { Host } from '../../host/index.js';
import type { Names } from '../../names/index.js';
import type { Logger } from '../../output/log.js';
import { describeOutcome, type SnapshotterOutcome } from './outcome.js';
import { waitSnapshotterReachable } from './ready.js';
import { decide, wipe } from './gather.js';

export interface SnapshotterTarget {
  readonly snapshotter: string;
  readonly socket: string;
  readonly dataDir: string;
}

export interface SnapshotterOps {
  decide(target: SnapshotterTarget): Promise<SnapshotterOutcome>;
  wipe(target: SnapshotterTarget, verdict: SnapshotterOutcome | undefined): Promise<SnapshotterOutcome>;
  waitReachable(snapshotter: string, timeoutMs: number): Promise<void>;
}

export function createSnapshotterOps(ctx: {
  readonly host: Host;
  readonly names: Names;
  readonly log: Logger;
}): SnapshotterOps {
  return {
    async decide(target) {
      const outcome = await decide(ctx, target);
      ctx.log.info(describeOutcome(outcome));
      return outcome;
    },
    async wipe(target, verdict) {
      const outcome = await wipe(ctx, target, verdict);
      if (outcome.decision === 'wiped') ctx.log.info(describeOutcome(outcome));
      else ctx.log.warn(describeOutcome(outcome));
      return outcome;
    },
    async waitReachable(snapshotter, timeoutMs) {
      await waitSnapshotterReachable(ctx, snapshotter, timeoutMs);
    },
  };
}

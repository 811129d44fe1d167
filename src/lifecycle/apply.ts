/**
 * Apply: runs a plan's steps in order through host/, logging each. A failure after the first step has been
 * applied is a PartialApplyError (exit 3): every step is idempotent and the state file says what was being
 * done, so running the same command again converges.
 */
import { KataDeployError, PartialApplyError } from '../errors/index.js';
import { formatInstallState, type Host } from '../host/index.js';
import type { Names } from '../names/index.js';
import type { Logger } from '../output/log.js';
import { describeStep, type Step } from './steps.js';
import type { RestartVerification } from './verify/verdict.js';
import type { Verifier } from './verify/verifier.js';
import type { SnapshotterOutcome } from './snapshotters/outcome.js';
import { createSnapshotterOps, type SnapshotterOps } from './snapshotters/ops.js';
import { extractFiles } from './artifacts/payload/extract.js';

export interface ApplyContext {
  readonly host: Host;
  readonly names: Names;
  readonly log: Logger;
  readonly verifier: Verifier;
  /** Test hook: SIGKILL this process right after step N (1-based) was applied. */
  readonly crashAfterStep?: number;
  /** The command, for the hint of a partial failure. */
  readonly command: string;
  /** Replaces the real snapshotter record/wipe/readiness operations (unit tests). */
  readonly snapshotterOps?: SnapshotterOps;
  /** Called before each step; what it throws ends the run before that step, as it is (see RunOptions). */
  readonly beforeStep?: (index: number, step: Step) => Promise<void>;
  /**
   * Filled by the executor: the latest outcome per snapshotter. `wipeSnapshotterData` reads the verdict its
   * `cleanSnapshotterRecords` left here, so a wipe never acts on anything but this run's own check.
   */
  readonly outcomes: Map<string, SnapshotterOutcome>;
  /** Filled by the executor: every handler check's verdict and the evidence it rests on, in order. */
  readonly verifications: RestartVerification[];
}

export async function applySteps(steps: readonly Step[], ctx: ApplyContext): Promise<number> {
  for (const [i, step] of steps.entries()) {
    await ctx.beforeStep?.(i, step);
    ctx.log.debug(`step ${i + 1}/${steps.length}: ${describeStep(step)}`);
    try {
      await applyStep(step, ctx);
    } catch (error) {
      if (i === 0 && !(error instanceof KataDeployError && step.kind === 'restartRuntime')) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new PartialApplyError(
        `step ${i + 1} of ${steps.length} (${describeStep(step)}) failed: ${reason}`,
        {
          input: error instanceof KataDeployError ? error.input : undefined,
          hint:
            error instanceof PartialApplyError
              ? error.hint
              : `${error instanceof KataDeployError && error.hint ? `${error.hint}; ` : ''}running \`kata-deploy ${ctx.command}\` again continues from here`,
          cause: error,
        },
      );
    }
    if (ctx.crashAfterStep === i + 1) {
      ctx.log.warn(`test hook: killing kata-deploy after step ${i + 1}`);
      process.kill(process.pid, 'SIGKILL');
    }
  }
  return steps.length;
}

async function applyStep(step: Step, ctx: ApplyContext): Promise<void> {
  const { host, names } = ctx;
  const ops = (): SnapshotterOps => ctx.snapshotterOps ?? createSnapshotterOps(ctx);
  switch (step.kind) {
    case 'writeState':
      await host.writeAtomic(names.stateFile, formatInstallState(step.state), 0o600);
      return;
    case 'removeState':
      await host.remove(names.stateFile);
      return;
    case 'mkdir':
      await host.mkdirp(step.path);
      return;
    case 'copyFile':
      await host.copyIn(step.from, step.path, step.mode);
      return;
    case 'extractFiles':
      await extractFiles(step, host);
      return;
    case 'writeFile':
      await host.writeAtomic(step.path, step.content, step.mode);
      return;
    case 'symlink':
      await host.symlink(step.path, step.target);
      return;
    case 'removeFile':
      await host.remove(step.path);
      return;
    case 'removeTree':
      await host.removeTree(step.path);
      return;
    case 'removeDirIfEmpty':
      await host.removeDirIfEmpty(step.path);
      return;
    case 'probeCri':
      await ctx.verifier.recordCriBefore();
      return;
    case 'restartRuntime':
      await ctx.verifier.restart(step.unit, step.restore);
      return;
    case 'verifyHandlers':
      ctx.verifications.push(await ctx.verifier.verify(step.handlers, step.expect));
      return;
    case 'service':
      if (step.ifActive && !(await host.services.isActive(step.unit))) return;
      if (step.action === 'daemonReload') await host.services.daemonReload();
      else if (step.action === 'enable' || step.action === 'disable')
        await host.services[step.action]?.(step.unit);
      else await host.services[step.action](step.unit);
      return;
    case 'cleanSnapshotterRecords':
      ctx.outcomes.set(step.snapshotter, await ops().decide(step));
      return;
    case 'wipeSnapshotterData':
      ctx.outcomes.set(step.snapshotter, await ops().wipe(step, ctx.outcomes.get(step.snapshotter)));
      return;
    case 'waitSnapshotter':
      await ops().waitReachable(step.snapshotter, step.timeoutMs);
      return;
  }
}

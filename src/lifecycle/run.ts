/**
 * install, cleanup and reset as observe → plan → apply, under the node lock. With `--dry-run` the plan is
 * returned without taking the lock or changing anything.
 */
import type { Host } from '../host/index.js';
import type { Logger } from '../output/log.js';
import type { Settings } from '../settings/index.js';
import { NODE_LOCK_FILE } from '../names/index.js';
import { formatVersion } from '../containerd/config/version.js';
import { applySteps } from './apply.js';
import type { SnapshotterHook } from './hooks.js';
import { snapshotterHooks as defaultHooks } from './registry.js';
import { describeOutcome, type SnapshotterOutcome } from './snapshotters/outcome.js';
import type { SnapshotterOps } from './snapshotters/ops.js';
import { observe, type Observed } from './observe.js';
import { planCleanup, planReset } from './plan-cleanup.js';
import { planInstall } from './plan-install.js';
import type { Step } from './steps.js';
import type { RestartVerification } from './verify/verdict.js';
import { createVerifier, type Verifier } from './verify/verifier.js';

export type LifecycleAction = 'install' | 'cleanup' | 'reset';

export interface RunOptions {
  readonly settings: Settings;
  readonly host: Host;
  readonly log: Logger;
  readonly hooks?: readonly SnapshotterHook[];
  /** Replaces the real restart/verify (unit tests). */
  readonly verifier?: (observed: Observed) => Verifier;
  /** How long to wait for another kata-deploy holding the node lock. */
  readonly lockWaitMs?: number;
  /** Replaces the real snapshotter record/wipe/readiness operations (unit tests). */
  readonly snapshotterOps?: SnapshotterOps;
}

export interface RunResult {
  readonly action: LifecycleAction;
  readonly dryRun: boolean;
  readonly runtime: string;
  readonly containerd: string;
  readonly installDir: string;
  readonly handlers: readonly string[];
  readonly steps: readonly Step[];
  readonly applied: number;
  readonly skipped?: string;
  /** What happened to each snapshotter's data dir (only when a snapshotter's data was considered). */
  readonly snapshotters?: readonly SnapshotterOutcome[];
  /**
   * The handler check's verdict and the evidence it rests on (when the plan had one). An `unknown` verdict
   * ends the command with exit 1.
   */
  readonly verification?: RestartVerification;
}

export async function runLifecycle(action: LifecycleAction, options: RunOptions): Promise<RunResult> {
  const { settings, host, log } = options;
  const hooks = options.hooks ?? defaultHooks;
  if (action === 'cleanup' && settings.helmPostDeleteHook) {
    log.info('HELM_POST_DELETE_HOOK=true: cleanup does nothing');
    return {
      action,
      dryRun: settings.dryRun,
      runtime: '',
      containerd: '',
      installDir: '',
      handlers: [],
      steps: [],
      applied: 0,
      skipped: 'HELM_POST_DELETE_HOOK=true',
    };
  }
  const lock = settings.dryRun
    ? undefined
    : await host.lock(NODE_LOCK_FILE, {
        waitMs: options.lockWaitMs ?? 300_000,
        onWait: (holder) => log.info(`waiting for another kata-deploy (${holder}) to release the node lock`),
      });
  try {
    // Every hook observes, set up or not: an install may leave a snapshotter the previous one set up.
    const seen = await observe({
      settings,
      host,
      log,
      withArtifacts: action === 'install',
      extraPaths: (names) => hooks.flatMap((h) => h.observePaths?.(names) ?? []),
    });
    const facts = new Map<string, unknown>();
    for (const h of hooks)
      facts.set(h.name, await h.observe?.({ settings, host, names: seen.names, action }));
    const observed: Observed = { ...seen, snapshotterFacts: facts };
    log.info(
      `node ${settings.nodeName}: runtime ${observed.runtime}, containerd ${formatVersion(observed.containerdVersion)} (from ${observed.versionSource})`,
    );
    const steps =
      action === 'install'
        ? planInstall(settings, observed, hooks)
        : action === 'cleanup'
          ? planCleanup(settings, observed, hooks)
          : planReset(observed);
    const result = {
      action,
      dryRun: settings.dryRun,
      runtime: observed.runtime,
      containerd: formatVersion(observed.containerdVersion),
      installDir: observed.names.installDir,
      handlers: observed.names.handlers.map((h) => h.handler),
      steps,
    };
    if (settings.dryRun) return { ...result, applied: 0 };
    const verifier =
      options.verifier?.(observed) ??
      createVerifier({
        host,
        names: observed.names,
        log,
        containerdBinary: observed.containerdBinary,
        timeoutMs: settings.restartTimeoutMs,
      });
    const outcomes = new Map<string, SnapshotterOutcome>();
    const verifications: RestartVerification[] = [];
    const applied = await applySteps(steps, {
      host,
      names: observed.names,
      log,
      verifier,
      crashAfterStep: settings.crashAfterStep,
      command: action,
      snapshotterOps: options.snapshotterOps,
      outcomes,
      verifications,
    });
    const snapshotters = [...outcomes.values()];
    for (const o of snapshotters) if (o.decision === 'kept') log.warn(describeOutcome(o));
    const verification = verifications.at(-1);
    return {
      ...result,
      applied,
      ...(snapshotters.length > 0 ? { snapshotters } : {}),
      ...(verification === undefined ? {} : { verification }),
    };
  } finally {
    await lock?.release();
  }
}

/**
 * install, cleanup and reset as observe → plan → apply, under the node lock. The host root is checked and the
 * node observed and planned once before the lock, so every refusal comes before anything is written (the lock
 * file included), and once more under the lock, which is the plan applied. With `--dry-run` the first plan is
 * returned without taking the lock or changing anything.
 */
import { dirname } from 'node:path';
import { checkFaults, PID_DIR, requireHostRoot, type Host } from '../host/index.js';
import type { Logger } from '../output/log.js';
import type { Settings } from '../settings/index.js';
import { NODE_LOCK_FILE } from '../names/index.js';
import { readOperatorFiles } from '../settings/operator-files.js';
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
  /**
   * Called before each step is applied, under the lock. What it throws stops the run there, unchanged (the
   * DaemonSet mode stops an install this way when SIGTERM comes; the lock is released as on any error).
   */
  readonly beforeStep?: (index: number, step: Step) => Promise<void>;
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
  /** Every handler check of the run, in order, when there was more than one (served, then dropped ones gone). */
  readonly verifications?: readonly RestartVerification[];
}

export async function runLifecycle(action: LifecycleAction, given: RunOptions): Promise<RunResult> {
  // The operator's files (custom runtimes, drop-ins) are settings too: read and checked before anything else.
  const options: RunOptions =
    action === 'reset'
      ? given
      : {
          ...given,
          settings: await readOperatorFiles(given.settings, undefined, { forCleanup: action === 'cleanup' }),
        };
  const { settings, host, log } = options;
  checkFaults();
  requireHostRoot(host.root);
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
  // Every refusal (a setting that does not fit this node, a path that cannot be written) comes from this first
  // survey, before the lock: a refused run leaves the host root exactly as it was.
  const first = await survey(action, options);
  // Services are managed only from the node's PID namespace (hostPID): refused here, before anything is written.
  if (first.steps.some((s) => s.kind === 'restartRuntime' || s.kind === 'service'))
    host.requireNodePidNamespace();
  log.info(
    `node ${settings.nodeName}: runtime ${first.observed.runtime}, containerd ${first.result.containerd} (from ${first.observed.versionSource})`,
  );
  if (settings.dryRun) return { ...first.result, applied: 0 };
  checkWritable(host, [NODE_LOCK_FILE, ...pathsWritten(first)]);
  const lock = await host.lock(NODE_LOCK_FILE, {
    waitMs: options.lockWaitMs ?? 300_000,
    onWait: (holder) => log.info(`waiting for another kata-deploy (${holder}) to release the node lock`),
  });
  try {
    const removed = await host.removeStaleTemps(dirsWritten(first), [first.observed.names.installDir]);
    if (removed.length > 0)
      log.info(`removed ${removed.length} temp file(s) of an interrupted run: ${removed.join(', ')}`);
    // Another run may have changed the node while this one waited for the lock: plan again, under it.
    const { observed, steps, result } = await survey(action, options);
    checkWritable(host, pathsWritten({ observed, steps }));
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
      beforeStep: options.beforeStep,
      outcomes,
      verifications,
    });
    const snapshotters = [...outcomes.values()];
    for (const o of snapshotters) if (o.decision === 'kept') log.warn(describeOutcome(o));
    // Install checks the handlers it wants served and, after a redeploy, those it dropped gone: the result
    // carries the first check that is not positive (an unknown one ends the command with exit 1), else the first.
    const verification = verifications.find((v) => v.verdict !== 'positive') ?? verifications[0];
    return {
      ...result,
      applied,
      ...(snapshotters.length > 0 ? { snapshotters } : {}),
      ...(verification === undefined ? {} : { verification }),
      ...(verifications.length > 1 ? { verifications } : {}),
    };
  } finally {
    await lock.release();
  }
}

interface Survey {
  readonly observed: Observed;
  readonly steps: Step[];
  readonly result: Omit<RunResult, 'applied'>;
}

/** Observe and plan; reads only. */
async function survey(action: LifecycleAction, options: RunOptions): Promise<Survey> {
  const { settings, host, log } = options;
  const hooks = options.hooks ?? defaultHooks;
  // Every hook observes, set up or not: an install may leave a snapshotter the previous one set up.
  const seen = await observe({
    settings,
    host,
    log,
    withArtifacts: action === 'install',
    extraPaths: (names) => hooks.flatMap((h) => h.observePaths?.(names) ?? []),
  });
  const facts = new Map<string, unknown>();
  for (const h of hooks) facts.set(h.name, await h.observe?.({ settings, host, names: seen.names, action }));
  const observed: Observed = { ...seen, snapshotterFacts: facts };
  const steps =
    action === 'install'
      ? planInstall(settings, observed, hooks)
      : action === 'cleanup'
        ? planCleanup(settings, observed, hooks)
        : planReset(observed);
  return {
    observed,
    steps,
    result: {
      action,
      dryRun: settings.dryRun,
      runtime: observed.runtime,
      containerd: formatVersion(observed.containerdVersion),
      installDir: observed.names.installDir,
      handlers: observed.names.handlers.map((h) => h.handler),
      steps,
    },
  };
}

/** Every node path a plan creates, replaces or removes. */
function pathsWritten({ observed, steps }: Pick<Survey, 'observed' | 'steps'>): string[] {
  const paths: string[] = [];
  for (const step of steps) {
    if ('path' in step) paths.push(step.path);
    if (step.kind === 'extractFiles') paths.push(...step.files.map((f) => f.path));
    if (step.kind === 'writeState' || step.kind === 'removeState') paths.push(observed.names.stateFile);
    if (step.kind === 'restartRuntime') paths.push(...step.restore.map((r) => r.path));
  }
  return paths;
}

/** Directories where a killed run may have left temp files: those of every file this run reads or writes. */
function dirsWritten(s: Survey): string[] {
  const files = [
    ...pathsWritten(s),
    ...s.observed.files.keys(),
    ...s.observed.backups.keys(),
    s.observed.names.stateFile,
    `${PID_DIR}/x`,
  ];
  return [...new Set(files.map((p) => dirname(p)))];
}

function checkWritable(host: Host, paths: readonly string[]): void {
  for (const p of new Set(paths)) host.checkWritable(p);
}

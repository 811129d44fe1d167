/**
 * The node's life as the sandbox plays it: install → pull through the snapshotter → run a container →
 * upgrade (install again, the container keeps running and keeps the data dir) → pull → stop the container →
 * uninstall → install → pull. Each step is timed; the first failing step ends the run (later ones are listed
 * as not run).
 */
import { existsSync } from 'node:fs';
import type { CliOptions, CliRun } from './cli.js';
import { describeOutcome, type SnapshotterOutcome } from '../src/lifecycle/snapshotters/outcome.js';
import { runLifecycleCli } from './cli.js';
import { CommandFailed, type Ctr } from './ctr.js';
import { NYDUS_NODE, NYDUS_UNIT, type SandboxNode } from './node.js';

export interface StepResult {
  readonly name: string;
  /** 'skipped': not run because an earlier step failed. */
  readonly outcome: 'passed' | 'failed' | 'skipped';
  readonly exitCode: number | undefined;
  readonly ms: number;
  readonly detail: string;
}

export interface ScenarioContext {
  readonly node: SandboxNode;
  readonly ctr: Ctr;
  readonly cli: CliOptions;
  /** Pullable references in the local registry. */
  readonly images: readonly string[];
  /** Reference of the image the container runs (one of images). */
  readonly runImage: string;
  readonly cgroupParent: string;
  readonly log: (line: string) => void;
}

export const CONTAINER_ID = 'sandbox-busybox';

class StepFailed extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** The snapshotter every image goes through: kata-deploy's nydus instance, or containerd's own overlayfs. */
function snapshotterOf(ctx: ScenarioContext): string {
  return ctx.cli.snapshotter === 'nydus' ? NYDUS_NODE.name : 'overlayfs';
}

function lastLine(text: string): string {
  return (
    text
      .trim()
      .split('\n')
      .filter((l) => l.trim() !== '')
      .at(-1) ?? ''
  );
}

async function lifecycle(ctx: ScenarioContext, action: 'install' | 'cleanup'): Promise<CliRun> {
  const r = await runLifecycleCli(action, ctx.cli);
  if (r.exitCode !== 0) {
    throw new StepFailed(r.result?.error?.message ?? (lastLine(r.stderr) || lastLine(r.stdout)), r.exitCode);
  }
  return r;
}

export function applied(r: CliRun): string {
  return r.result?.applied === undefined ? lastLine(r.stdout) : `applied ${r.result.applied} steps`;
}

/** What the run's result says it did with the nydus data dir. */
export function nydusOutcome(r: CliRun): SnapshotterOutcome | undefined {
  return r.result?.snapshotters?.find((o) => o.snapshotter === NYDUS_NODE.name);
}

/**
 * The verdict on the data dir and who held it (`<name>: <dir> wiped|kept …; held by ns/id …`); the engine's
 * per-snapshot reasons stay in kata-deploy's own output.
 */
export function dataDirOutcome(r: CliRun): string | undefined {
  const outcome = nydusOutcome(r);
  return outcome && describeOutcome({ ...outcome, reasons: [] });
}

async function nydusState(ctx: ScenarioContext): Promise<string> {
  if (ctx.cli.snapshotter !== 'nydus') return '';
  const active = await ctx.node.host.services.isActive(NYDUS_UNIT);
  const dataDir = existsSync(ctx.node.at(NYDUS_NODE.dataDir)) ? 'present' : 'absent';
  return `; ${NYDUS_UNIT} ${active ? 'running' : 'stopped'}, data dir ${dataDir}`;
}

async function install(ctx: ScenarioContext): Promise<string> {
  const r = await lifecycle(ctx, 'install');
  const said = dataDirOutcome(r);
  return `${applied(r)}${said ? `; ${said}` : ''}${await nydusState(ctx)}`;
}

async function pull(ctx: ScenarioContext): Promise<string> {
  const snapshotter = snapshotterOf(ctx);
  for (const ref of ctx.images) {
    try {
      await ctx.ctr.pull(ref, snapshotter);
    } catch (error) {
      if (error instanceof CommandFailed) throw new StepFailed(`${ref}: ${error.message}`, error.exitCode);
      throw error;
    }
  }
  const count = await ctx.ctr.countSnapshots(snapshotter);
  return `${ctx.images.length} images unpacked into ${snapshotter} (${count} snapshots listed)`;
}

async function runContainer(ctx: ScenarioContext): Promise<string> {
  const t = await ctx.ctr.runContainer(CONTAINER_ID, ctx.runImage, snapshotterOf(ctx), ctx.cgroupParent);
  return `task ${t.id} ${t.status} (pid ${t.pid}) on ${snapshotterOf(ctx)}`;
}

async function upgrade(ctx: ScenarioContext): Promise<string> {
  const before = await ctx.ctr.task(CONTAINER_ID);
  if (before?.status !== 'RUNNING') throw new StepFailed(`task ${CONTAINER_ID} is not running before`, 1);
  const r = await lifecycle(ctx, 'install');
  const after = await ctx.ctr.task(CONTAINER_ID);
  if (after?.status !== 'RUNNING' || after.pid !== before.pid) {
    throw new StepFailed(
      `task ${CONTAINER_ID} did not survive the upgrade: ${after ? `${after.status} pid ${after.pid}` : 'gone'}`,
      1,
    );
  }
  let kept = '';
  if (ctx.cli.snapshotter === 'nydus') {
    const named = dataDirOutcome(r);
    const outcome = nydusOutcome(r);
    if (outcome?.decision !== 'kept' || !outcome.heldBy.some((h) => h.container === CONTAINER_ID)) {
      throw new StepFailed(
        `the install result does not name ${CONTAINER_ID} as what kept the data dir (it said: ${named ?? 'nothing about the data dir'})`,
        1,
      );
    }
    if (!existsSync(ctx.node.at(NYDUS_NODE.dataDir))) throw new StepFailed('the data dir was removed', 1);
    kept = `; ${named}`;
  }
  return `${applied(r)}; task ${CONTAINER_ID} still RUNNING (pid ${after.pid})${kept}${await nydusState(ctx)}`;
}

async function stopContainer(ctx: ScenarioContext): Promise<string> {
  await ctx.ctr.removeContainer(CONTAINER_ID);
  return `task and container ${CONTAINER_ID} deleted`;
}

async function uninstall(ctx: ScenarioContext): Promise<string> {
  const r = await lifecycle(ctx, 'cleanup');
  const said = dataDirOutcome(r);
  return `${applied(r)}${said ? `; ${said}` : ''}${await nydusState(ctx)}`;
}

export const STEPS: readonly { name: string; run: (ctx: ScenarioContext) => Promise<string> }[] = [
  { name: 'install', run: install },
  { name: 'pull', run: pull },
  { name: 'run container', run: runContainer },
  { name: 'upgrade (install again)', run: upgrade },
  { name: 'pull again', run: pull },
  { name: 'stop container', run: stopContainer },
  { name: 'uninstall (cleanup)', run: uninstall },
  { name: 'install', run: install },
  { name: 'pull again', run: pull },
];

export async function runStep(
  name: string,
  fn: () => Promise<string>,
  log: (line: string) => void,
): Promise<StepResult> {
  log(`sandbox: ${name} ...`);
  const started = performance.now();
  let result: Omit<StepResult, 'ms'>;
  try {
    result = { name, outcome: 'passed', exitCode: 0, detail: await fn() };
  } catch (error) {
    const exitCode =
      error instanceof StepFailed || error instanceof CommandFailed ? error.exitCode : undefined;
    const detail = error instanceof Error ? error.message : String(error);
    result = { name, outcome: 'failed', exitCode, detail };
  }
  return { ...result, ms: Math.round(performance.now() - started) };
}

export async function runScenario(ctx: ScenarioContext): Promise<StepResult[]> {
  const results: StepResult[] = [];
  for (const step of STEPS) {
    if (results.some((r) => r.outcome === 'failed')) {
      results.push({ name: step.name, outcome: 'skipped', exitCode: undefined, ms: 0, detail: '' });
      continue;
    }
    results.push(await runStep(step.name, () => step.run(ctx), ctx.log));
  }
  return results;
}

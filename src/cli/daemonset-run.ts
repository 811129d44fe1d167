/**
 * `kata-deploy install --daemonset`, loaded only when it runs. The supervisor (the long-lived process) loads
 * the settings to refuse bad input before it binds anything, and nothing of the install itself; each worker
 * (`--daemonset-step`) loads the lifecycle and the Kubernetes client.
 */
import { ExitCode, UsageError } from '../errors/index.js';
import { emitResult } from '../output/emit.js';
import { archFromNode, loadSettings } from '../settings/index.js';
import { DEFAULT_TERMINATION_LOG, loadDaemonSetSettings } from '../settings/daemonset.js';
import { writeTerminationLog } from '../daemonset/termination-log.js';
import type { DaemonSetResult, WorkerReport } from '../daemonset/protocol.js';
import type { GlobalOptions } from './context.js';
import type { DaemonSetCliFlags } from './daemonset.js';
import type { LifecycleFlags } from './lifecycle.js';

export async function runDaemonSetCommand(
  flags: LifecycleFlags & DaemonSetCliFlags,
  g: GlobalOptions,
): Promise<void> {
  try {
    await run(flags, g);
  } catch (error) {
    // A refusal before the supervisor ran (bad settings, not root): its words still reach the pod's status.
    if (flags.daemonsetStep === undefined && error instanceof Error) {
      const path = flags.terminationLog?.startsWith('/') ? flags.terminationLog : DEFAULT_TERMINATION_LOG;
      await writeTerminationLog(path, `kata-deploy install: ${error.message}`).catch(() => undefined);
    }
    throw error;
  }
}

async function run(flags: LifecycleFlags & DaemonSetCliFlags, g: GlobalOptions): Promise<void> {
  if (flags.dryRun) {
    throw new UsageError('--dry-run cannot be combined with --daemonset', {
      input: '--dry-run',
      hint: 'run kata-deploy install --dry-run (without --daemonset) to see the plan',
    });
  }
  const settings = loadSettings({ env: process.env, flags, arch: archFromNode(process.arch) });
  const ds = loadDaemonSetSettings(process.env, flags);
  if (process.geteuid?.() !== 0) {
    throw new UsageError('kata-deploy install --daemonset must run as root', { hint: 'run it as root' });
  }
  if (flags.daemonsetStep !== undefined) {
    const { runWorker } = await import('../daemonset/worker.js');
    const code = await runWorker(flags.daemonsetStep, settings, ds, g.log);
    // The client's keep-alive sockets would hold the process: the result is delivered, so end here.
    process.exit(code);
  }
  const { superviseDaemonSet } = await import('../daemonset/supervisor.js');
  const entry = process.argv[1]!;
  const userArgs = process.argv.slice(2);
  const result = await superviseDaemonSet({
    node: settings.nodeName,
    healthPort: ds.healthPort,
    terminationLog: ds.terminationLog,
    log: g.log,
    workerCommand: (step) => ({
      command: process.execPath,
      args: [...process.execArgv, entry, ...userArgs, '--daemonset-step', step],
    }),
  });
  emitResult(g.json, result, renderResult);
  if (result.exitCode !== ExitCode.ok) process.exitCode = result.exitCode;
}

function renderReport(r: WorkerReport): string {
  if (r.error !== undefined)
    return `${r.step}: ${r.interrupted ? 'stopped by the signal' : 'failed'}: ${r.error.message}${r.error.hint ? ` (${r.error.hint})` : ''}`;
  const o = r.outcome;
  if (o === undefined) return `${r.step}: no result`;
  if (o.step === 'install') {
    return `install: ${o.lifecycle.applied} step(s) applied on node ${o.node}, handlers ${o.lifecycle.handlers.join(', ')}, labels held after ${o.labels.attempts} attempt(s)${o.taints.removed.length > 0 ? `, startup taints removed: ${o.taints.removed.join(', ')}` : ''}`;
  }
  const lines = [`cleanup: ${o.decision} (${o.reason})`];
  if (o.release) lines.push(`  shared label: ${o.release.shared}`);
  if (o.lifecycle) lines.push(`  ${o.lifecycle.applied} step(s) applied`);
  for (const s of o.lifecycle?.snapshotters ?? [])
    lines.push(
      `  ${s.snapshotter}: data ${s.decision}${s.reasons.length > 0 ? ` (${s.reasons.join('; ')})` : ''}`,
    );
  return lines.join('\n');
}

function renderResult(r: DaemonSetResult): string {
  const lines = [`daemonset on node ${r.node} (health port ${r.healthPort})`, renderReport(r.install)];
  if (r.signal) lines.push(`signal: ${r.signal}`);
  if (r.cleanup) lines.push(renderReport(r.cleanup));
  return lines.join('\n');
}

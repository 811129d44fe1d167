/**
 * `kata-deploy install --daemonset`, loaded only when it runs. The supervisor (the long-lived process) reads
 * only what it needs itself — the health port and the termination log — so it never loads the settings schema,
 * the lifecycle or the Kubernetes client; the install worker validates every setting before it changes
 * anything, and a refusal there ends the supervisor with the worker's exit code (2) and message.
 */
import { ExitCode, quoteValue, UsageError } from '../errors/index.js';
import { emitResult } from '../output/emit.js';
import {
  DEFAULT_TERMINATION_LOG,
  parseHealthPort,
  parseTerminationLog,
} from '../settings/daemonset-values.js';
import { writeTerminationLog } from '../daemonset/termination-log.js';
import type { DaemonSetResult, WorkerReport } from '../daemonset/protocol.js';
import type { GlobalOptions } from './context.js';
import type { DaemonSetCliFlags } from './daemonset.js';
import type { LifecycleFlags } from './lifecycle.js';

export async function runDaemonSetCommand(
  flags: LifecycleFlags & DaemonSetCliFlags,
  g: GlobalOptions,
): Promise<void> {
  if (flags.daemonsetStep !== undefined) {
    const { runWorkerCommand } = await import('./daemonset-worker-run.js');
    await runWorkerCommand(flags.daemonsetStep, flags, g);
    return;
  }
  try {
    await supervise(flags, g);
  } catch (error) {
    // A refusal before the supervisor ran (a bad HEALTH_PORT, not root): its words still reach the pod's status.
    const path = flags.terminationLog?.startsWith('/') ? flags.terminationLog : DEFAULT_TERMINATION_LOG;
    if (error instanceof Error)
      await writeTerminationLog(path, `kata-deploy install: ${error.message}`).catch(() => undefined);
    throw error;
  }
}

async function supervise(flags: LifecycleFlags & DaemonSetCliFlags, g: GlobalOptions): Promise<void> {
  if (flags.dryRun) {
    throw new UsageError('--dry-run cannot be combined with --daemonset', {
      input: '--dry-run',
      hint: 'run kata-deploy install --dry-run (without --daemonset) to see the plan',
    });
  }
  const port = parseHealthPort(process.env['HEALTH_PORT'] ?? '');
  if (!port.ok) throw invalid('HEALTH_PORT', process.env['HEALTH_PORT'] ?? '', port.accepted);
  const log = parseTerminationLog(flags.terminationLog ?? '');
  if (!log.ok) throw invalid('--termination-log', flags.terminationLog ?? '', log.accepted);
  if (process.geteuid?.() !== 0) {
    throw new UsageError('kata-deploy install --daemonset must run as root', { hint: 'run it as root' });
  }
  const { superviseDaemonSet } = await import('../daemonset/supervisor.js');
  const entry = process.argv[1]!;
  const userArgs = process.argv.slice(2);
  const result = await superviseDaemonSet({
    node: process.env['NODE_NAME'] ?? '',
    healthPort: port.value,
    terminationLog: log.value,
    log: g.log,
    workerCommand: (step) => ({
      command: process.execPath,
      args: [...process.execArgv, entry, ...userArgs, '--daemonset-step', step],
    }),
  });
  emitResult(g.json, result, renderResult);
  if (result.exitCode !== ExitCode.ok) process.exitCode = result.exitCode;
}

function invalid(name: string, value: string, accepted: string): UsageError {
  return new UsageError(`${name}=${quoteValue(value)} is not valid: expected ${accepted}`, {
    input: name,
    hint: 'fix the value; nothing was changed on the node',
  });
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

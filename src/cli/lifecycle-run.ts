/** The body of `install | cleanup | reset`, loaded only when one of them runs. */
import { ExitCode, UsageError } from '../errors/index.js';
import { createHost } from '../host/index.js';
import {
  describeOutcome,
  describeStep,
  describeVerification,
  runLifecycle,
  type LifecycleAction,
  type RunResult,
} from '../lifecycle/index.js';
import { SERVICE_SPEC_DIR } from '../names/index.js';
import { emitResult } from '../output/emit.js';
import { archFromNode, loadSettings } from '../settings/index.js';
import type { GlobalOptions } from './context.js';
import type { LifecycleFlags } from './lifecycle.js';

export async function runLifecycleCommand(
  action: LifecycleAction,
  flags: LifecycleFlags,
  g: GlobalOptions,
): Promise<void> {
  const settings = loadSettings({ env: process.env, flags, arch: archFromNode(process.arch) });
  if (!settings.dryRun && process.geteuid?.() !== 0) {
    throw new UsageError(`kata-deploy ${action} must run as root`, {
      hint: 'run it as root, or add --dry-run',
    });
  }
  const host = createHost({
    root: settings.hostRoot,
    serviceManager: settings.serviceManager,
    serviceSpecDir: SERVICE_SPEC_DIR,
  });
  const result = await runLifecycle(action, { settings, host, log: g.log });
  emitResult(g.json, result, renderResult);
  // Everything was applied, but the handler check could not reach a verdict: the command's negative verdict.
  if (result.verification?.verdict === 'unknown') process.exitCode = ExitCode.negative;
}

function renderResult(r: RunResult): string {
  if (r.skipped !== undefined) return `${r.action}: skipped (${r.skipped})`;
  const head = `${r.action} on ${r.runtime} (containerd ${r.containerd}), ${r.installDir}, handlers ${r.handlers.join(', ')}`;
  const steps = r.steps.map((s, i) => `  ${String(i + 1).padStart(3)}. ${describeStep(s)}`).join('\n');
  if (r.dryRun) return `${head}\nplan (${r.steps.length} steps, nothing changed):\n${steps}`;
  const data = (r.snapshotters ?? []).map((o) => `  ${describeOutcome(o)}`);
  const checks = r.verifications ?? (r.verification === undefined ? [] : [r.verification]);
  const check = checks.map((v) => `\n${describeVerification(v)}`).join('');
  return `${head}\napplied ${r.applied} steps:\n${steps}${data.length > 0 ? `\nsnapshotter data:\n${data.join('\n')}` : ''}${check}`;
}

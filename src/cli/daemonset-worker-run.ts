/** A worker of `install --daemonset` (`--daemonset-step`): every setting validated, then the step. */
import { archFromNode, loadSettings } from '../settings/index.js';
import { loadDaemonSetSettings } from '../settings/daemonset.js';
import { runWorker } from '../daemonset/worker.js';
import type { WorkerStep } from '../daemonset/protocol.js';
import type { GlobalOptions } from './context.js';
import type { DaemonSetCliFlags } from './daemonset.js';
import type { LifecycleFlags } from './lifecycle.js';

export async function runWorkerCommand(
  step: WorkerStep,
  flags: LifecycleFlags & DaemonSetCliFlags,
  g: GlobalOptions,
): Promise<void> {
  const code = await runWorker(step, g.log, () => ({
    settings: loadSettings({ env: process.env, flags, arch: archFromNode(process.arch) }),
    ds: loadDaemonSetSettings(process.env, flags),
  }));
  // The client's keep-alive sockets would hold the process: the result is delivered, so end here.
  process.exit(code);
}

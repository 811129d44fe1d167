/**
 * A worker process of the DaemonSet mode (`install --daemonset --daemonset-step <step>`), started by the
 * supervisor. It reports its outcome or its error over the IPC channel and exits. The install worker stops
 * before its next step on SIGTERM/SIGINT or when the supervisor goes away; the cleanup worker lets nothing
 * interrupt it (the supervisor decides when to clean up, and a cleanup finished is better than one cut short).
 */
import { createHost } from '../host/index.js';
import { InterruptedError } from '../k8s/errors.js';
import { connectKubeApi } from '../k8s/client.js';
import { abortableSleep } from '../k8s/retry.js';
import { DEFAULT_TIMING, scaleTiming } from '../k8s/timing.js';
import type { Step } from '../lifecycle/index.js';
import { KataDeployError } from '../errors/index.js';
import { SERVICE_SPEC_DIR } from '../names/index.js';
import type { Logger } from '../output/log.js';
import type { Settings } from '../settings/index.js';
import type { DaemonSetSettings } from '../settings/daemonset.js';
import { cleanupStep } from './cleanup-step.js';
import { installStep } from './install-step.js';
import type { WorkerMessage, WorkerStep } from './protocol.js';
import type { StepContext } from './steps-common.js';

/** `load` validates the settings: a refusal is reported like any other failure (exit 2, nothing written). */
export async function runWorker(
  step: WorkerStep,
  log: Logger,
  load: () => { settings: Settings; ds: DaemonSetSettings },
): Promise<number> {
  const controller = new AbortController();
  const stop = (why: string) => {
    if (step !== 'install') {
      log.info(`${why}: the cleanup continues`);
      return;
    }
    if (!controller.signal.aborted) log.info(`${why}: the install stops before its next step`);
    controller.abort();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('disconnect', () => stop('the supervisor went away'));

  let stepDelayMs = 0;
  const beforeStep = async (index: number, s: Step) => {
    if (controller.signal.aborted)
      throw new InterruptedError(`stopped by a signal before step ${index + 1} (${s.kind})`);
    if (stepDelayMs > 0) {
      log.info(`test hook: step ${index + 1} (${s.kind}) in ${stepDelayMs} ms`);
      await abortableSleep(stepDelayMs, controller.signal).catch(() => undefined);
      if (controller.signal.aborted)
        throw new InterruptedError(`stopped by a signal before step ${index + 1} (${s.kind})`);
    }
  };
  let message: WorkerMessage;
  try {
    const { settings, ds } = load();
    stepDelayMs = ds.stepDelayMs;
    const timing = scaleTiming(DEFAULT_TIMING, ds.timeScale);
    const api = connectKubeApi({
      kubeconfig: ds.kubeconfig,
      env: process.env,
      namespace: ds.podNamespace,
      callTimeoutMs: timing.callTimeoutMs,
      ...(ds.serviceAccountPrefix === undefined ? {} : { serviceAccountPrefix: ds.serviceAccountPrefix }),
    });
    log.info(`${step}: Kubernetes API at ${api.server}, node ${settings.nodeName}`);
    const host = createHost({
      root: settings.hostRoot,
      serviceManager: settings.serviceManager,
      serviceSpecDir: SERVICE_SPEC_DIR,
    });
    const ctx: StepContext = { settings, ds, api, host, log, timing, signal: controller.signal, beforeStep };
    const outcome = step === 'install' ? await installStep(ctx) : await cleanupStep(ctx);
    // An unknown verdict (the restart's, or whether the DaemonSet still selects the node) is exit 1.
    const unknown =
      outcome.lifecycle?.verification?.verdict === 'unknown' ||
      (outcome.step === 'cleanup' && outcome.evidence.some((e) => e.status !== 'seen'))
        ? 1
        : 0;
    message = { type: 'done', outcome, exitCode: unknown, maxRssKiB: process.resourceUsage().maxRSS };
  } catch (error) {
    const interrupted = error instanceof InterruptedError;
    message = {
      type: 'failed',
      interrupted,
      maxRssKiB: process.resourceUsage().maxRSS,
      error:
        error instanceof KataDeployError
          ? {
              kind: error.name,
              message: error.message,
              exitCode: error.exitCode,
              ...(error.input === undefined ? {} : { input: error.input }),
              ...(error.hint === undefined ? {} : { hint: error.hint }),
            }
          : {
              kind: 'InternalError',
              message: error instanceof Error ? (error.stack ?? error.message) : String(error),
              exitCode: 70,
            },
    };
  }
  const code = message.type === 'done' ? message.exitCode : message.error.exitCode;
  if (process.send === undefined) {
    process.stdout.write(`${JSON.stringify(message, null, 2)}\n`);
    return code;
  }
  await new Promise<void>((resolve) => process.send!(message, () => resolve()));
  return code;
}

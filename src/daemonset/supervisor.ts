/**
 * The DaemonSet mode's long-lived process (the container's PID 1). It binds the health server first, then runs
 * the install in a worker process, flips `/readyz` to 200 when the worker reports the node installed, verified
 * and labelled, and waits for SIGTERM; then it runs the cleanup in another worker and exits with its result.
 * The install and cleanup code (the Kubernetes client, the gRPC client, the lifecycle) lives only in the
 * workers, so the process that waits, possibly for months, holds no more memory than its health server needs.
 *
 * Signals: the first SIGTERM (or SIGINT) starts the stop. During the install it is passed to the worker, which
 * stops before its next step; then the cleanup worker runs, and it alone decides, from the DaemonSet, whether
 * this is a rolling restart (everything stays) or an uninstall (the applied steps are undone). Later signals
 * are logged and ignored: the running worker finishes, and a SIGKILL at any moment leaves a node that the next
 * run converges.
 */
import { spawn } from 'node:child_process';
import type { Logger } from '../output/log.js';
import { startHealthServer, type HealthState } from './health.js';
import {
  errorMessageOf,
  type DaemonSetResult,
  type WorkerMessage,
  type WorkerReport,
  type WorkerStep,
} from './protocol.js';
import { writeTerminationLog } from './termination-log.js';

export interface SupervisorOptions {
  readonly node: string;
  readonly healthPort: number;
  readonly terminationLog: string;
  readonly log: Logger;
  /** The command line to start a worker with: the CLI's own, plus `--daemonset-step <step>`. */
  readonly workerCommand: (step: WorkerStep) => { command: string; args: string[] };
}

export async function superviseDaemonSet(o: SupervisorOptions): Promise<DaemonSetResult> {
  const { log } = o;
  let state: HealthState = 'installing';
  const setState = (next: HealthState) => {
    if (next !== state) log.info(`readiness: ${state} → ${next}`);
    state = next;
  };
  const server = await startHealthServer(o.healthPort, () => state);
  log.info(`health server listening on port ${server.port} (/healthz, /readyz)`);

  let signal: NodeJS.Signals | undefined;
  let stopped: (s: NodeJS.Signals) => void = () => {};
  const signalled = new Promise<NodeJS.Signals>((resolve) => (stopped = resolve));
  const onSignal = (s: NodeJS.Signals) => {
    if (signal !== undefined) {
      log.warn(`${s} again: already stopping (${signal}); the running step finishes first`);
      return;
    }
    signal = s;
    log.info(`${s}: stopping`);
    if (state !== 'failed') setState('stopping');
    stopped(s);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const finish = async (result: Omit<DaemonSetResult, 'node' | 'healthPort' | 'mode'>) => {
    const failedReport = [result.cleanup, result.install].find((r) => r !== undefined && r.exitCode !== 0);
    const words = failedReport === undefined ? undefined : errorMessageOf(failedReport);
    if (words !== undefined) {
      const where = await writeTerminationLog(
        o.terminationLog,
        `kata-deploy ${failedReport!.step}: ${words}`,
      ).catch((e: unknown) => `not written (${e instanceof Error ? e.message : String(e)})`);
      log.debug(`termination log ${o.terminationLog}: ${where}`);
    }
    await server.close();
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    return { mode: 'daemonset' as const, node: o.node, healthPort: server.port, ...result };
  };

  const installer = startWorker('install', o);
  const first = await Promise.race([installer.done, signalled.then(() => undefined)]);
  let install: WorkerReport;
  if (first === undefined) {
    log.info('asking the install to stop before its next step');
    installer.child.kill('SIGTERM');
    install = await installer.done;
  } else {
    install = first;
    if (install.exitCode !== 0) {
      setState('failed');
      log.error(`install failed: ${errorMessageOf(install) ?? `exit ${install.exitCode}`}`);
      return finish({ install, exitCode: install.exitCode });
    }
    setState('ready');
    log.info('installed, verified and labelled; waiting for SIGTERM');
    await signalled;
  }
  const cleanup = await startWorker('cleanup', o).done;
  if (cleanup.exitCode !== 0)
    log.error(`cleanup failed: ${errorMessageOf(cleanup) ?? `exit ${cleanup.exitCode}`}`);
  return finish({ install, signal, cleanup, exitCode: cleanup.exitCode });
}

interface RunningWorker {
  readonly child: ReturnType<typeof spawn>;
  readonly done: Promise<WorkerReport>;
}

function startWorker(step: WorkerStep, o: SupervisorOptions): RunningWorker {
  const { command, args } = o.workerCommand(step);
  o.log.info(`${step}: starting`);
  const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const done = new Promise<WorkerReport>((resolve) => {
    let last: WorkerMessage | undefined;
    child.on('message', (m: WorkerMessage) => (last = m));
    child.on('error', (error) =>
      resolve({
        step,
        exitCode: 70,
        error: {
          kind: 'InternalError',
          message: `cannot start the ${step} worker: ${error.message}`,
          exitCode: 70,
        },
      }),
    );
    // 'close', not 'exit': it comes after the IPC channel is drained, so the last message is never missed.
    child.on('close', (code, sig) => {
      if (last?.type === 'done')
        resolve({ step, exitCode: last.exitCode, outcome: last.outcome, maxRssKiB: last.maxRssKiB });
      else if (last?.type === 'failed')
        resolve({
          step,
          exitCode: last.error.exitCode,
          error: last.error,
          interrupted: last.interrupted,
          maxRssKiB: last.maxRssKiB,
        });
      else
        resolve({
          step,
          exitCode: code === 0 || code === null ? 70 : code,
          error: {
            kind: 'InternalError',
            message: `the ${step} worker ended without a result (${sig ?? `exit ${code}`})`,
            exitCode: 70,
          },
        });
    });
  });
  return { child, done };
}

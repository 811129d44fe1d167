/**
 * The install worker: claim the node (`false` labels, before anything is written on the host), install and
 * verify through the lifecycle (under the node lock), wait until the Node is Ready and its kubelet reports the
 * handlers, label it `true` and see the labels hold, then remove the startup taints.
 */
import { HostError } from '../errors/index.js';
import { markerLabel } from '../k8s/labels.js';
import { claimNode, labelReady, removeStartupTaints, retried, waitNodeServes } from '../k8s/node-ops.js';
import { describeVerification, runLifecycle } from '../lifecycle/index.js';
import type { InstallOutcome } from './protocol.js';
import { nodeOps, summarize, type StepContext } from './steps-common.js';

export async function installStep(ctx: StepContext): Promise<InstallOutcome> {
  const { settings, log } = ctx;
  const ops = nodeOps(ctx);
  const marker = markerLabel(settings.multiInstallSuffix);
  // The first call: the API may not answer yet when the pod starts; /readyz stays 503 meanwhile.
  await retried(ops, () => ctx.api.readNode(settings.nodeName), ctx.timing.startup);
  await claimNode(ops, marker);
  const result = await runLifecycle('install', {
    settings,
    host: ctx.host,
    log,
    beforeStep: ctx.beforeStep,
  });
  const lifecycle = summarize(result);
  if (result.verification?.verdict !== 'positive') {
    throw new HostError(
      `installed, but not verified: ${result.verification === undefined ? 'no handler check ran' : describeVerification(result.verification)}`,
      { hint: 'the node stays claimed (label false); the pod restarts and the install runs again' },
    );
  }
  const nodeEvidence = await waitNodeServes(ops, result.handlers);
  const labels = await labelReady(ops, marker);
  const taints = await removeStartupTaints(ops, ctx.ds.startupTaints);
  return { step: 'install', node: settings.nodeName, marker, lifecycle, nodeEvidence, labels, taints };
}

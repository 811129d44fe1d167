/**
 * The cleanup worker, after SIGTERM. First: is this an uninstall? Only positive evidence says so — the
 * DaemonSet is gone (404), being deleted, or no longer selects this node. A DaemonSet that still selects it is
 * a rolling restart: the node stays installed and labelled for the next pod. A DaemonSet that could not be
 * read, or a selection this build cannot evaluate, also keeps everything (uninstalling under running Kata pods
 * is the harm to avoid; a node left installed is fixed by the next cleanup). Then, in upstream's order: the
 * labels (so nothing new is scheduled here), and the lifecycle's cleanup under the node lock — snapshotters,
 * containerd's configuration, the artifacts, and the runtime's restart last.
 */
import { UsageError } from '../errors/index.js';
import { failed, notSeen, seen, type Evidence } from '../evidence/index.js';
import { KubeApiError } from '../k8s/errors.js';
import { markerLabel } from '../k8s/labels.js';
import { releaseNode, retried } from '../k8s/node-ops.js';
import { daemonSetSelects } from '../k8s/selects.js';
import type { NodeView } from '../k8s/types.js';
import { runLifecycle } from '../lifecycle/index.js';
import type { CleanupOutcome } from './protocol.js';
import { nodeOps, summarize, type StepContext } from './steps-common.js';

export async function cleanupStep(ctx: StepContext): Promise<CleanupOutcome> {
  const { settings, ds, log } = ctx;
  const ops = nodeOps(ctx);
  const name = settings.nodeName;
  const namespace = ds.podNamespace ?? ctx.api.namespace;
  if (namespace === undefined) {
    throw new UsageError("the namespace of kata-deploy's DaemonSet is not known", {
      input: 'POD_NAMESPACE',
      hint: 'set POD_NAMESPACE from the downward API (fieldRef metadata.namespace)',
    });
  }
  let node: NodeView | undefined;
  try {
    node = await retried(ops, () => ctx.api.readNode(name));
  } catch (error) {
    if (!(error instanceof KubeApiError && error.notFound)) throw error;
  }
  const subject = `DaemonSet ${namespace}/${ds.daemonSetName}`;
  const daemonSet = await retried(ops, () => ctx.api.readDaemonSet(namespace, ds.daemonSetName));
  const evidence: Evidence[] = [
    daemonSet === undefined
      ? seen('daemonset', subject, 'not found (404): deleted')
      : seen('daemonset', subject, `uid ${daemonSet.uid}`),
  ];
  let reason: string;
  if (daemonSet === undefined) reason = `${subject} was deleted: an uninstall`;
  else if (node === undefined) {
    evidence.push(
      notSeen('daemonset', `node ${name}`, 'the Node object is gone; its labels cannot be matched'),
    );
    return kept(name, `${subject} exists but node ${name} could not be read to match it`, evidence, log);
  } else {
    const selection = daemonSetSelects(daemonSet, node);
    if (selection.selects === true) return kept(name, selection.reason, evidence, log);
    if (selection.selects === 'unknown') {
      evidence.push(failed('daemonset', subject, selection.reason));
      return kept(name, selection.reason, evidence, log);
    }
    reason = selection.reason;
  }
  log.info(`uninstalling from node ${name}: ${reason}`);
  const release =
    node === undefined ? undefined : await releaseNode(ops, markerLabel(settings.multiInstallSuffix));
  const result = await runLifecycle('cleanup', { settings, host: ctx.host, log, beforeStep: ctx.beforeStep });
  return {
    step: 'cleanup',
    node: name,
    decision: 'uninstalled',
    reason,
    evidence,
    ...(release === undefined ? {} : { release }),
    lifecycle: summarize(result),
  };
}

function kept(node: string, reason: string, evidence: Evidence[], log: StepContext['log']): CleanupOutcome {
  log.info(`node ${node} stays installed: ${reason}`);
  return { step: 'cleanup', node, decision: 'kept', reason, evidence };
}

/**
 * What the DaemonSet mode does to its Node through the API: claim it, label it once Kata serves there (and see
 * the labels hold), remove the startup taints, wait until the kubelet reports the handlers, release it. Each
 * change is a merge patch of only kata-deploy's keys; a change that depends on what was read carries the read
 * resourceVersion as a precondition and is re-read and retried on 409.
 */
import { seen, notSeen, failed, type Evidence } from '../evidence/index.js';
import type { Logger } from '../output/log.js';
import type { KubeApi } from './api.js';
import { KubeApiError } from './errors.js';
import {
  claimPatch,
  describeLabels,
  labelsHold,
  readyPatch,
  releasePatch,
  type LabelPatch,
  type Release,
} from './labels.js';
import { abortableSleep, throwIfAborted, withRetries, type RetryPolicy } from './retry.js';
import { describeTaint, withoutStartupTaints, type StartupTaint } from './taints.js';
import type { Timing } from './timing.js';
import type { NodeView, Taint } from './types.js';

export interface NodeOpsContext {
  readonly api: KubeApi;
  readonly node: string;
  readonly timing: Timing;
  readonly log: Logger;
  readonly signal?: AbortSignal;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** One API call with the backoff for transient failures. */
export function retried<T>(ctx: NodeOpsContext, op: () => Promise<T>, policy?: RetryPolicy): Promise<T> {
  return withRetries(op, policy ?? ctx.timing.later, {
    log: ctx.log,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    ...(ctx.sleep ? { sleep: ctx.sleep } : {}),
  });
}

const pause = (ctx: NodeOpsContext, ms: number) => (ctx.sleep ?? abortableSleep)(ms, ctx.signal);

/**
 * Read, decide, patch with the read resourceVersion; again on 409. `decide` returning undefined means the node
 * already is as wanted. Returns the node as last seen and the patch that was applied (if any).
 */
async function patchLabelsFromRead(
  ctx: NodeOpsContext,
  decide: (node: NodeView) => LabelPatch | undefined,
): Promise<{ node: NodeView; applied: LabelPatch | undefined }> {
  for (let attempt = 1; ; attempt++) {
    const node = await retried(ctx, () => ctx.api.readNode(ctx.node));
    const patch = decide(node);
    if (patch === undefined) return { node, applied: undefined };
    try {
      const after = await retried(ctx, () => ctx.api.patchNodeLabels(ctx.node, patch, node.resourceVersion));
      return { node: after, applied: patch };
    } catch (error) {
      if (!(error instanceof KubeApiError && error.conflict) || attempt >= ctx.timing.conflictAttempts)
        throw error;
      ctx.log.debug(`node ${ctx.node} changed since it was read (409); reading it again`);
    }
  }
}

/** `false` on the shared label and this install's marker, each only where absent. */
export async function claimNode(ctx: NodeOpsContext, marker: string): Promise<NodeView> {
  const { node, applied } = await patchLabelsFromRead(ctx, (n) => claimPatch(n.labels, marker));
  ctx.log.info(
    applied === undefined
      ? `node ${ctx.node} already claimed: ${describeLabels(node.labels)}`
      : `claimed node ${ctx.node}: ${describeLabels(node.labels)}`,
  );
  return node;
}

export interface LabelOutcome {
  readonly attempts: number;
  /** Times a check saw the labels gone or changed after they were set. */
  readonly dropped: number;
}

/**
 * Both labels `true`, then seen `labelChecks` times in a row, `labelCheckIntervalMs` apart; a check that
 * finds them changed starts a new attempt, up to `labelAttempts`.
 */
export async function labelReady(ctx: NodeOpsContext, marker: string): Promise<LabelOutcome> {
  const want = readyPatch(marker);
  const t = ctx.timing;
  let dropped = 0;
  for (let attempt = 1; attempt <= t.labelAttempts; attempt++) {
    const node = await retried(ctx, () => ctx.api.readNode(ctx.node));
    if (!labelsHold(node.labels, want)) await retried(ctx, () => ctx.api.patchNodeLabels(ctx.node, want));
    let held = true;
    for (let check = 1; check <= t.labelChecks; check++) {
      await pause(ctx, t.labelCheckIntervalMs);
      const seenNode = await retried(ctx, () => ctx.api.readNode(ctx.node));
      if (!labelsHold(seenNode.labels, want)) {
        dropped++;
        ctx.log.warn(
          `node ${ctx.node}: labels changed after they were set (check ${check} of attempt ${attempt}): ${describeLabels(seenNode.labels)}; setting them again`,
        );
        held = false;
        break;
      }
    }
    if (held) {
      ctx.log.info(
        `labelled node ${ctx.node}: ${describeLabels(want as Record<string, string>)} (held for ${t.labelChecks} checks)`,
      );
      return { attempts: attempt, dropped };
    }
  }
  throw new KubeApiError(
    { verb: 'patch', resource: 'nodes', name: ctx.node },
    {
      status: undefined,
      reason: 'LabelsNotStable',
      message: `the labels did not hold for ${t.labelChecks} checks in ${t.labelAttempts} attempts`,
    },
    { hint: 'something keeps rewriting the node labels (a kubelet re-registering with --node-labels?)' },
  );
}

export interface TaintOutcome {
  readonly removed: readonly string[];
}

/** The startup taints off the node: read, filter, write with the read resourceVersion; again on 409. */
export async function removeStartupTaints(
  ctx: NodeOpsContext,
  startup: readonly StartupTaint[],
): Promise<TaintOutcome> {
  if (startup.length === 0) return { removed: [] };
  for (let attempt = 1; ; attempt++) {
    const node = await retried(ctx, () => ctx.api.readNode(ctx.node));
    const kept = withoutStartupTaints(node.taints, startup);
    if (kept === undefined) return { removed: [] };
    const removed = node.taints.filter((t) => !kept.includes(t)).map((t: Taint) => describeTaint(t));
    try {
      await retried(ctx, () => ctx.api.replaceNodeTaints(ctx.node, kept, node.resourceVersion));
      ctx.log.info(`removed startup taint(s) from node ${ctx.node}: ${removed.join(', ')}`);
      return { removed };
    } catch (error) {
      if (!(error instanceof KubeApiError && error.conflict) || attempt >= ctx.timing.conflictAttempts)
        throw error;
      ctx.log.debug(`node ${ctx.node} changed since it was read (409); reading it again`);
    }
  }
}

/** This install's marker off, and the shared label kept, demoted or removed. */
export async function releaseNode(ctx: NodeOpsContext, marker: string): Promise<Release> {
  let release: Release | undefined;
  const { node } = await patchLabelsFromRead(ctx, (n) => {
    release = releasePatch(n.labels, marker);
    return release.patch;
  });
  const r = release!;
  ctx.log.info(
    `released node ${ctx.node} (shared label: ${r.shared}${Object.keys(r.others).length > 0 ? `, other installs: ${describeLabels(r.others)}` : ''}); labels now ${describeLabels(node.labels)}`,
  );
  return r;
}

/**
 * After the runtime's restart: the Node Ready, and `status.runtimeHandlers` listing every kata handler. A
 * kubelet that does not report runtimeHandlers (before Kubernetes 1.30) leaves that source not seen: unknown,
 * never "missing". A Node that does not become Ready, or lists handlers without all of ours by the deadline,
 * fails the install.
 */
export async function waitNodeServes(ctx: NodeOpsContext, handlers: readonly string[]): Promise<Evidence[]> {
  const t = ctx.timing;
  const start = Date.now();
  let node = await retried(ctx, () => ctx.api.readNode(ctx.node));
  while (node.ready !== 'True') {
    if (Date.now() - start > t.nodeReadyMs) {
      throw new KubeApiError(
        { verb: 'get', resource: 'nodes', name: ctx.node },
        {
          status: undefined,
          reason: 'NotReady',
          message: `the node was not Ready within ${t.nodeReadyMs} ms (Ready=${node.ready ?? 'not reported'})`,
        },
        { hint: "look at the kubelet's log: it reports the runtime's status" },
      );
    }
    await pause(ctx, t.pollMs);
    node = await retried(ctx, () => ctx.api.readNode(ctx.node));
  }
  const evidence: Evidence[] = [seen('node-ready', `node ${ctx.node}`, 'Ready=True')];
  const handlersStart = Date.now();
  for (;;) {
    throwIfAborted(ctx.signal);
    if (node.runtimeHandlers === undefined) {
      evidence.push(
        notSeen(
          'node-runtime-handlers',
          `node ${ctx.node} status.runtimeHandlers`,
          'the kubelet does not report runtime handlers (Kubernetes before 1.30): unknown, the CRI check on the node stands',
        ),
      );
      ctx.log.info(`node ${ctx.node} does not report status.runtimeHandlers; relying on the CRI check`);
      return evidence;
    }
    const missing = handlers.filter((h) => !node.runtimeHandlers!.includes(h));
    if (missing.length === 0) {
      evidence.push(
        seen(
          'node-runtime-handlers',
          `node ${ctx.node} status.runtimeHandlers`,
          `lists ${handlers.join(', ')}`,
        ),
      );
      return evidence;
    }
    if (Date.now() - handlersStart > t.handlersMs) {
      evidence.push(
        failed(
          'node-runtime-handlers',
          `node ${ctx.node} status.runtimeHandlers`,
          `does not list ${missing.join(', ')} after ${t.handlersMs} ms`,
        ),
      );
      throw new KubeApiError(
        { verb: 'get', resource: 'nodes', name: ctx.node },
        {
          status: undefined,
          reason: 'HandlersMissing',
          message: `status.runtimeHandlers does not list ${missing.join(', ')} after ${t.handlersMs} ms (it lists ${node.runtimeHandlers.map((h) => (h === '' ? '""' : h)).join(', ')})`,
        },
        {
          hint: 'the kubelet does not see the handlers containerd serves; restart the kubelet or look at its log',
        },
      );
    }
    await pause(ctx, t.pollMs);
    node = await retried(ctx, () => ctx.api.readNode(ctx.node));
  }
}

/** The calls kata-deploy makes to the Kubernetes API; `client.ts` implements them, unit tests fake them. */
import type { LabelPatch } from './labels.js';
import type { DaemonSetView, NodeView, Taint } from './types.js';

export interface KubeApi {
  /** Where the API is (for messages). */
  readonly server: string;
  /** The namespace of the pod (POD_NAMESPACE, else the service account's), when known. */
  readonly namespace: string | undefined;
  readNode(name: string): Promise<NodeView>;
  /**
   * A JSON merge patch of labels only: other labels, and a concurrent writer's changes to them, are kept. With
   * `resourceVersion` the patch is also a precondition: a node changed since it was read gets 409 Conflict.
   */
  patchNodeLabels(name: string, labels: LabelPatch, resourceVersion?: string): Promise<NodeView>;
  /** Replaces `spec.taints` whole, on the precondition that the node is still at `resourceVersion`. */
  replaceNodeTaints(name: string, taints: readonly Taint[], resourceVersion: string): Promise<NodeView>;
  /** Undefined when it does not exist (404). */
  readDaemonSet(namespace: string, name: string): Promise<DaemonSetView | undefined>;
}

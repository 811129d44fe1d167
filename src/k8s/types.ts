/**
 * What kata-deploy reads of Kubernetes objects, as plain data: the client layer maps the API's objects into
 * these, and every decision (labels, taints, "does the DaemonSet still select this node") is made on them.
 */

export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
export const TAINT_EFFECTS: readonly TaintEffect[] = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: string;
  readonly timeAdded?: string;
}

export interface NodeView {
  readonly name: string;
  readonly resourceVersion: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  /** `status.conditions[type=Ready].status`: `True`, `False`, `Unknown`; undefined when not reported. */
  readonly ready: string | undefined;
  /**
   * `status.runtimeHandlers[].name` (Kubernetes 1.30 and later; the default handler is `""`). Undefined when
   * the kubelet does not report the field at all: that is "unknown", never "no handlers".
   */
  readonly runtimeHandlers: readonly string[] | undefined;
}

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';

export interface SelectorRequirement {
  readonly key: string;
  readonly operator: string;
  readonly values?: readonly string[];
}

export interface NodeSelectorTerm {
  readonly matchExpressions?: readonly SelectorRequirement[];
  readonly matchFields?: readonly SelectorRequirement[];
}

export interface DaemonSetView {
  readonly name: string;
  readonly namespace: string;
  readonly uid: string;
  readonly deletionTimestamp: string | undefined;
  /** `spec.template.spec.nodeSelector`. */
  readonly nodeSelector: Readonly<Record<string, string>>;
  /** `spec.template.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`. */
  readonly requiredTerms: readonly NodeSelectorTerm[] | undefined;
}

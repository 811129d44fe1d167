/**
 * Does kata-deploy's own DaemonSet still select this node (pure)? That tells a rolling restart (it does: the
 * node stays installed) from an uninstall (it was deleted, is being deleted, or no longer selects the node).
 * Evaluated as the DaemonSet controller places pods: the pod template's nodeSelector and its required node
 * affinity. Taints are not evaluated: a taint the DaemonSet does not tolerate would make this say "no longer
 * selected" and uninstall under running pods, while the wrong answer the other way only leaves Kata installed.
 */
import type { DaemonSetView, NodeSelectorTerm, NodeView, SelectorRequirement } from './types.js';

/** `unknown` (a requirement this build cannot evaluate) keeps the node installed, as "selects" does. */
export interface Selection {
  readonly selects: boolean | 'unknown';
  readonly reason: string;
}

export function daemonSetSelects(ds: DaemonSetView, node: Pick<NodeView, 'name' | 'labels'>): Selection {
  const what = `DaemonSet ${ds.namespace}/${ds.name}`;
  if (ds.deletionTimestamp !== undefined)
    return { selects: false, reason: `${what} is being deleted (since ${ds.deletionTimestamp})` };
  for (const [k, v] of Object.entries(ds.nodeSelector)) {
    if (node.labels[k] !== v)
      return { selects: false, reason: `${what}'s nodeSelector ${k}=${v} does not match node ${node.name}` };
  }
  if (ds.requiredTerms !== undefined) {
    const terms = ds.requiredTerms.map((t) => termMatches(t, node));
    if (!terms.includes(true)) {
      return terms.includes(undefined)
        ? {
            selects: 'unknown',
            reason: `${what}'s required node affinity has a requirement this build cannot evaluate`,
          }
        : { selects: false, reason: `${what}'s required node affinity does not match node ${node.name}` };
    }
  }
  return { selects: true, reason: `${what} still selects node ${node.name} (a rolling restart)` };
}

/**
 * A term matches when all its requirements do; an empty term matches nothing (as in Kubernetes). Undefined:
 * no requirement fails, but one cannot be evaluated.
 */
function termMatches(term: NodeSelectorTerm, node: Pick<NodeView, 'name' | 'labels'>): boolean | undefined {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const results = [
    ...exprs.map((r) => requirementMatches(r, node.labels[r.key])),
    ...fields.map((r) => (r.key === 'metadata.name' ? requirementMatches(r, node.name) : undefined)),
  ];
  if (results.includes(false)) return false;
  return results.includes(undefined) ? undefined : true;
}

function requirementMatches(r: SelectorRequirement, value: string | undefined): boolean | undefined {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      const [bound] = values;
      if (value === undefined || bound === undefined || !/^-?\d+$/.test(value) || !/^-?\d+$/.test(bound))
        return false;
      return r.operator === 'Gt' ? BigInt(value) > BigInt(bound) : BigInt(value) < BigInt(bound);
    }
    default:
      return undefined;
  }
}

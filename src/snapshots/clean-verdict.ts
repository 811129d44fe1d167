/**
 * The clean verdict, pure. `clean: true` says the snapshotter's data may be wiped: containerd holds no record
 * of it in any namespace. It rests on four sources, each of which must have been seen:
 * - the snapshotter is loaded in containerd (introspection),
 * - meta.db was read (containerd's List hides stale records, so an empty listing proves nothing) from a path
 *   that was found,
 * - every namespace in which meta.db holds records of the snapshotter was examined (a `--namespace` subset,
 *   or a fallback list, covers only itself),
 * - containers and tasks were listed in every examined namespace.
 * Anything not seen makes the verdict `unknown`; records or containers that stay make it `false`.
 */
import {
  describeMissing,
  judge,
  notSeen,
  seen,
  type Evidence,
  type EvidenceKind,
} from '../evidence/index.js';
import { describeReason } from './plan.js';
import type { CleanVerdict, NamespacePlan, NamespaceResult } from './types.js';

export const CLEAN_REQUIRES: readonly EvidenceKind[] = [
  'snapshotter-loaded',
  'meta-db',
  'namespaces',
  'tasks',
];

/** Namespace coverage: what meta.db says holds records, against what was examined. */
export function namespaceEvidence(input: {
  readonly snapshotter: string;
  /** Namespaces the run examined. */
  readonly examined: readonly string[];
  /** Records of the snapshotter per namespace, from meta.db; undefined when meta.db was not read. */
  readonly recordsByNamespace: ReadonlyMap<string, number> | undefined;
  /** How the examined list came about. */
  readonly scope: 'all' | 'subset' | 'fallback';
  readonly listingError?: string | undefined;
}): Evidence[] {
  const { snapshotter, examined, recordsByNamespace, scope } = input;
  if (recordsByNamespace === undefined) {
    return [
      scope === 'all'
        ? seen('namespaces', 'namespaces', `listed by containerd: ${examined.join(', ') || 'none'}`)
        : notSeen(
            'namespaces',
            'namespaces',
            scope === 'subset'
              ? `only ${examined.join(', ')} examined, and without meta.db the others cannot be checked`
              : `containerd's namespace listing failed (${input.listingError ?? 'unknown error'}); only ${examined.join(', ')} examined`,
            scope === 'subset' ? 'pass no --namespace to cover all' : undefined,
          ),
    ];
  }
  const missed = [...recordsByNamespace]
    .filter(([ns, n]) => n > 0 && !examined.includes(ns))
    .sort(([a], [b]) => a.localeCompare(b));
  if (missed.length === 0) {
    const how =
      scope === 'all'
        ? 'every namespace listed by containerd'
        : scope === 'subset'
          ? `${examined.join(', ')}; meta.db holds no record of ${snapshotter} in any other namespace`
          : `${examined.join(', ')}, from meta.db (containerd's namespace listing failed: ${input.listingError ?? ''})`;
    return [seen('namespaces', 'namespaces', how)];
  }
  return missed.map(([ns, n]) =>
    notSeen(
      'namespaces',
      `namespace ${ns}`,
      `holds ${n} record${n === 1 ? '' : 's'} of ${snapshotter} in meta.db but was not examined`,
      scope === 'subset'
        ? 'pass no --namespace to cover all'
        : 'run again once containerd lists its namespaces',
    ),
  );
}

/** Why records stay, in words, from the last plans and the per-namespace results. */
export function leftovers(results: readonly NamespaceResult[], plans: readonly NamespacePlan[]): string[] {
  const out: string[] = [];
  for (const result of results) {
    for (const r of result.remaining)
      out.push(`${result.namespace}: ${r.key} stays: ${describeReason(r.reason)}`);
    for (const c of result.keptContainers)
      out.push(`${result.namespace}: container ${c.id} kept (task ${c.taskStatus})`);
  }
  for (const plan of plans)
    for (const id of plan.deleteContainers) out.push(`${plan.namespace}: container ${id} still present`);
  return out;
}

export function cleanVerdict(
  evidence: readonly Evidence[],
  stays: readonly string[],
): { clean: CleanVerdict; reasons: string[]; missing: string[] } {
  const verdict = judge(evidence, CLEAN_REQUIRES, stays);
  if (verdict === 'positive') return { clean: true, reasons: [], missing: [] };
  if (verdict === 'negative') return { clean: false, reasons: [...stays], missing: [] };
  const missing = describeMissing(evidence, CLEAN_REQUIRES);
  return { clean: 'unknown', reasons: [...missing, ...stays], missing };
}

/** Text rendering of cleanup results and plans; no decisions here. */
import { describeReason } from './plan.js';
import type { CleanResult, NamespacePlan } from './types.js';

const verdictWord = (clean: CleanResult['clean']): string =>
  clean === true ? 'clean' : clean === false ? 'NOT clean' : 'UNKNOWN (do not wipe the data)';

export function renderPlan(plans: NamespacePlan[]): string[] {
  const lines: string[] = [];
  for (const plan of plans) {
    lines.push(`namespace ${plan.namespace}:`);
    for (const id of plan.deleteContainers) lines.push(`  delete container ${id} (no task)`);
    plan.removalOrder.forEach((key, i) => lines.push(`  ${String(i + 1).padStart(4)}. remove ${key}`));
    for (const c of plan.keptContainers) lines.push(`  keep container ${c.id} (task ${c.taskStatus})`);
    for (const k of plan.kept) lines.push(`  keep ${k.key}: ${describeReason(k.reason)}`);
    if (
      plan.deleteContainers.length +
        plan.removalOrder.length +
        plan.kept.length +
        plan.keptContainers.length ===
      0
    ) {
      lines.push('  nothing');
    }
  }
  return lines;
}

export function renderCleanResult(result: CleanResult): string {
  const seconds = (result.durationMs / 1000).toFixed(2);
  const lines = [
    `snapshotter ${result.snapshotter}: ${result.dryRun ? 'dry run, ' : ''}${verdictWord(result.clean)} ` +
      `(records from ${result.enumeration}, ${result.rounds} round${result.rounds === 1 ? '' : 's'}, ${result.apiCalls} API calls, ${seconds} s)`,
  ];
  if (result.namespacesFallback)
    lines.push('  namespaces could not be listed; only the fallback namespaces were cleaned');
  if (result.plan) {
    lines.push(...renderPlan(result.plan));
  } else {
    for (const ns of result.namespaces) {
      const parts = [
        `${ns.containersRemoved.length} containers`,
        `${ns.snapshotsRemoved} snapshots removed`,
        `${ns.sweptByGc} swept by containerd's GC`,
      ];
      lines.push(
        `  ${ns.namespace}: ${ns.listingError ? `listing failed: ${ns.listingError}` : parts.join(', ')}`,
      );
      for (const c of ns.keptContainers) lines.push(`    kept container ${c.id} (task ${c.taskStatus})`);
      for (const r of ns.remaining) lines.push(`    stays ${r.key}: ${describeReason(r.reason)}`);
    }
  }
  for (const m of result.missing) lines.push(`  UNKNOWN: ${m}`);
  if (result.clean !== true && !result.plan) {
    const missing = new Set(result.missing);
    for (const reason of result.reasons) {
      if (missing.has(reason) || reason.includes(' stays: ') || reason.includes(' kept (task')) continue;
      lines.push(`  ${reason}`);
    }
  }
  return lines.join('\n');
}

/** Text rendering of doctor reports and repair results. */
import type { DoctorReport, Holder } from './doctor.js';
import { renderPlan } from './render.js';
import type { RepairResult } from './repair.js';

function holder(h: Holder): string {
  switch (h.kind) {
    case 'image':
      return `image ${h.name}`;
    case 'container':
      return `container ${h.id}`;
    case 'lease':
      return `lease ${h.id}`;
    case 'gc-root':
      return 'gc.root label';
    case 'content':
      return `a gc.ref label on content ${h.digest}`;
    case 'snapshot':
      return `a gc.ref label on snapshot ${h.key}`;
  }
}

export function renderDoctorReport(report: DoctorReport): string {
  const verdict = report.healthy === true ? 'healthy' : report.healthy === false ? 'SPLIT BRAIN' : 'UNKNOWN';
  const lines = [
    `snapshotter ${report.snapshotter}: ${verdict} (${report.records} records in ${report.metaDbPath}; backend: ${
      report.backend.known
        ? `${report.backend.snapshots} snapshots from ${report.backend.source}`
        : `unknown: ${report.backend.reason}`
    })`,
  ];
  for (const m of report.missing) lines.push(`  UNKNOWN: ${m}`);
  if (report.staleRecords.length > 0) {
    lines.push(
      `  stale records (in meta.db, missing in the snapshotter; containerd's List hides them): ${report.staleRecords.length}`,
    );
    for (const s of report.staleRecords) {
      const by =
        s.heldBy.length > 0
          ? `held by ${s.heldBy.map(holder).join(', ')}`
          : 'held by nothing but its children';
      lines.push(`    ${s.namespace}: ${s.key} (backend key ${s.backendKey}) ${by}`);
    }
  }
  for (const image of report.brokenImages) {
    lines.push(
      `  image ${image.namespace}/${image.name} will fail to pull or import: ${image.staleKeys.length} stale layer(s)`,
    );
  }
  for (const d of report.danglingLinks) {
    lines.push(
      `  dangling child link: ${d.namespace}: ${d.key} lists missing ${d.missingChildren.join(', ')}`,
    );
    lines.push(`    remedy: ${d.remedy}`);
  }
  if (report.orphanedBackendSnapshots.length > 0) {
    lines.push(
      `  orphaned backend snapshots (no record; containerd's GC removes them): ${report.orphanedBackendSnapshots.length}`,
    );
  }
  if (report.staleRecords.length > 0)
    lines.push(
      '  remedy: `kata-deploy snapshots repair` (add --drop-images to have the broken images pulled again)',
    );
  return lines.join('\n');
}

export function renderRepairResult(result: RepairResult): string {
  const lines = [renderDoctorReport(result.before)];
  if (result.dryRun) {
    lines.push('repair plan (dry run):', ...renderPlan(result.plan));
    return lines.join('\n');
  }
  lines.push(
    `repair: ${result.snapshotsRemoved} records removed, ${result.containersRemoved.length} containers removed, ` +
      `${result.imagesDropped.length} images dropped, ${result.rounds} round(s)`,
  );
  if (result.after) lines.push('after repair:', renderDoctorReport(result.after));
  lines.push(result.repaired ? 'repaired' : 'NOT repaired: see what remains above');
  return lines.join('\n');
}

/** Text rendering of a check report: one line per check, notes, then the verdict. No decisions here. */
import type { CheckReport, Finding, Status } from './types.js';

const LABEL: Record<Status, string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' };

function renderFinding(f: Finding): string {
  return `${LABEL[f.status]}  ${f.message}${f.hint ? ` (${f.hint})` : ''}`;
}

/** Without `verbose`, only WARN and FAIL lines; notes and the verdict always. */
export function renderReport(report: CheckReport, verbose: boolean): string {
  const lines = report.checks
    .filter((f) => verbose || f.status === 'warn' || f.status === 'fail')
    .map(renderFinding);
  lines.push(...report.notes.map((n) => `NOTE  ${n}`));
  lines.push(report.message);
  return lines.join('\n');
}

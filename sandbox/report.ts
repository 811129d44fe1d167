/** The sandbox's report: one line per step with its outcome, exit code and time, then the teardown. */
import type { StepResult } from './scenario.js';

export interface SandboxReport {
  readonly containerd: string;
  /** `systemd` (the systemd bed) or `process` (the process supervisor), with why systemd was not used. */
  readonly serviceManager: string;
  readonly snapshotter: string;
  readonly root: string;
  readonly steps: readonly StepResult[];
  readonly teardown: {
    readonly steps: readonly StepResult[];
    readonly notes: readonly string[];
    readonly problems: readonly string[];
    /** What is still running or mounted after the teardown (empty when nothing is). */
    readonly leftRunning: readonly string[];
    readonly rootRemoved: boolean;
  };
  readonly passed: boolean;
  readonly totalMs: number;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const INDENT = ' '.repeat(54);

/** The step's line; a detail made of several `; `-separated facts continues one fact per line below it. */
function row(index: string, r: StepResult): string {
  const exit = r.exitCode === undefined ? '-' : String(r.exitCode);
  const time = r.outcome === 'skipped' ? '' : `${r.ms} ms`;
  const [first = '', ...more] = r.detail.split('; ');
  const head = `${index.padStart(3)}  ${r.name.padEnd(24)} ${r.outcome.padEnd(7)} ${exit.padStart(4)} ${time.padStart(9)}  ${first}`;
  return [head.trimEnd(), ...more.map((m) => `${INDENT}${m}`)].join('\n');
}

export function renderReport(report: SandboxReport): string {
  const lines = [
    '',
    `kata-deploy sandbox: containerd ${report.containerd}, service manager ${report.serviceManager}, snapshotter ${report.snapshotter}, host root ${report.root}`,
    `  #  ${'step'.padEnd(24)} ${'result'.padEnd(7)} exit      time  detail`,
    ...report.steps.map((r, i) => row(String(i), r)),
    ...report.teardown.steps.map((r) => row('-', r)),
  ];
  for (const note of report.teardown.notes) lines.push(`     teardown: ${note}`);
  for (const problem of report.teardown.problems) lines.push(`     teardown PROBLEM: ${problem}`);
  lines.push(
    `     left running: ${report.teardown.leftRunning.length === 0 ? 'nothing' : report.teardown.leftRunning.join(', ')}`,
  );
  lines.push(`     host root: ${report.teardown.rootRemoved ? 'removed' : `kept at ${report.root}`}`);
  const done = report.steps.filter((s) => s.outcome === 'passed').length;
  lines.push(
    `result: ${report.passed ? 'PASSED' : 'FAILED'} (${done}/${report.steps.length} steps passed, ${seconds(report.totalMs)})`,
    '',
  );
  return lines.join('\n');
}

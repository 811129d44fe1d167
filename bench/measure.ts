/**
 * Runs a command in a fresh child process under GNU time, so the peak RSS is that run's own, and collects
 * wall time, peak RSS, exit code and stdout. Used by the benches; not part of the product.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';

export const GNU_TIME = '/usr/bin/time';

export interface RunSample {
  ms: number;
  /** Peak resident set size of the command, in KiB ("Maximum resident set size" of `time -v`). */
  maxRssKiB: number;
  /** User + system CPU time of the command, in milliseconds (10 ms resolution). */
  cpuMs: number;
  code: number;
  stdout: string;
}

export function requireGnuTime(): void {
  if (!existsSync(GNU_TIME)) {
    throw new Error(`${GNU_TIME} is missing: install it with \`apt-get install -y time\``);
  }
}

/** `discardStdout` sends the command's stdout straight to /dev/null, as `> /dev/null` in a shell would. */
export async function measure(
  file: string,
  args: string[],
  options: { discardStdout?: boolean } = {},
): Promise<RunSample> {
  const devNull = options.discardStdout ? openSync('/dev/null', 'w') : undefined;
  try {
    const child = spawn(GNU_TIME, ['-v', file, ...args], {
      stdio: ['ignore', devNull ?? 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const start = performance.now();
    const code = await new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (c) => resolve(c ?? -1));
    });
    const ms = performance.now() - start;
    const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1];
    if (rss === undefined) throw new Error(`no peak RSS from ${GNU_TIME} for ${file}:\n${stderr}`);
    const cpu = (what: string): number =>
      Number(new RegExp(`${what} time \\(seconds\\): ([\\d.]+)`).exec(stderr)?.[1] ?? NaN) * 1000;
    return { ms, maxRssKiB: Number(rss), cpuMs: cpu('User') + cpu('System'), code, stdout };
  } finally {
    if (devNull !== undefined) closeSync(devNull);
  }
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? NaN)
    : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

/** Plain fixed-width table: first column left-aligned, the rest right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Runs the built CLI (`bin/kata-deploy.js`) as a child process and collects what it printed. */
import { join } from 'node:path';
import { run, type RunResult } from '../bed/exec.js';

export const REPO_ROOT = join(import.meta.dirname, '../..');
export const CLI = join(REPO_ROOT, 'bin/kata-deploy.js');

export interface CliRunOptions {
  /** The child's whole environment besides PATH: tests decide every variable kata-deploy reads. */
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** Never throws for a non-zero exit: callers assert on code, signal and output. */
export function runCli(args: string[], options: CliRunOptions = {}): Promise<RunResult> {
  return run(process.execPath, [CLI, ...args], {
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...options.env },
    allowFail: true,
    timeoutMs: options.timeoutMs ?? 300_000,
  });
}

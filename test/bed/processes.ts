// Long-running processes the bed starts (containerd, nydus, registry), tracked by pid, and a few /proc helpers.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Blocks the thread; only for the exit handler, where nothing asynchronous can run any more. */
export function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** True while the process exists and is not a zombie. */
export function pidAlive(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // "pid (comm) S ..." where comm may itself contain spaces and parentheses.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X';
}

export function killPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

export async function waitForPidsGone(pids: readonly number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let left = pids.filter(pidAlive);
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(20);
    left = left.filter(pidAlive);
  }
  return left;
}

export function waitForPidsGoneSync(pids: readonly number[], timeoutMs: number): number[] {
  const deadline = Date.now() + timeoutMs;
  let left = pids.filter(pidAlive);
  while (left.length > 0 && Date.now() < deadline) {
    sleepSync(20);
    left = left.filter(pidAlive);
  }
  return left;
}

/** Pids of live processes whose command line contains `needle` (for example a bed's socket path). */
export function pidsMentioning(needle: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmdline.includes(needle) && pidAlive(pid)) found.push(pid);
    } catch {
      // exited while we looked
    }
  }
  return found;
}

export async function tailFile(file: string, lines = 20): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return `(no log at ${file})`;
  }
}

export interface ServiceSpec {
  name: string;
  file: string;
  args: string[];
  logPath: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * One long-running child. The child is unref'd so a test that forgets teardown does not hang; the exit
 * handler in lifecycle.ts kills it instead.
 */
export class Service {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private spawnError: Error | undefined;

  constructor(readonly spec: ServiceSpec) {}

  get pid(): number | undefined {
    return this.running() ? this.child?.pid : undefined;
  }

  running(): boolean {
    const child = this.child;
    return (
      child !== undefined &&
      child.pid !== undefined &&
      this.spawnError === undefined &&
      child.exitCode === null &&
      child.signalCode === null
    );
  }

  start(): void {
    if (this.running()) throw new Error(`${this.spec.name} is already running (pid ${this.child?.pid})`);
    const log = openSync(this.spec.logPath, 'a');
    try {
      writeSync(
        log,
        `--- ${new Date().toISOString()} starting ${this.spec.file} ${this.spec.args.join(' ')}\n`,
      );
      const child = spawn(this.spec.file, this.spec.args, {
        stdio: ['ignore', log, log],
        env: this.spec.env ?? process.env,
      });
      this.child = child;
      this.spawnError = undefined;
      this.exited = new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.once('error', (error) => {
          this.spawnError = error;
          resolve();
        });
      });
      child.unref();
    } finally {
      closeSync(log);
    }
  }

  /** SIGTERM, then SIGKILL after graceMs. Resolves once the process has exited. */
  async stop(graceMs = 5_000): Promise<void> {
    const child = this.child;
    if (!child || !this.running() || child.pid === undefined) return;
    child.kill('SIGTERM');
    if (await this.waitExit(graceMs)) return;
    child.kill('SIGKILL');
    if (!(await this.waitExit(10_000))) {
      throw new Error(`${this.spec.name} (pid ${child.pid}) did not exit after SIGKILL`);
    }
  }

  /** Why the process could not be started, if it could not (for example ENOENT). */
  get startError(): Error | undefined {
    return this.spawnError;
  }

  killSync(): void {
    if (this.running()) this.child?.kill('SIGKILL');
  }

  private async waitExit(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const done = await Promise.race([this.exited.then(() => true), timeout]);
    clearTimeout(timer);
    return done;
  }
}

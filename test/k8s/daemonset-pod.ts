/**
 * Runs the built CLI as the DaemonSet's container would (`kata-deploy install --daemonset`), in-cluster
 * against the test API server (KUBERNETES_SERVICE_HOST/PORT and the service-account files under a prefix),
 * and watches it from outside as the kubelet's probes do: /readyz every 50 ms, each change of answer recorded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI } from '../support/cli.js';

export interface PodOptions {
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Flags for node itself (`--max-semi-space-size=1`), before the CLI. */
  readonly nodeArgs?: readonly string[];
}

export interface ReadyzEvent {
  readonly t: number;
  /** HTTP status, or `refused` when nothing listens (before the bind, after the exit). */
  readonly answer: number | 'refused';
}

export class DaemonSetPod {
  stderr = '';
  stdout = '';
  port: number | undefined;
  readonly readyz: ReadyzEvent[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private readonly started = Date.now();
  private polling = true;

  constructor(o: PodOptions) {
    this.child = spawn(process.execPath, [...(o.nodeArgs ?? []), CLI, 'install', '--daemonset', ...o.args], {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HEALTH_PORT: '0', ...o.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so that kill() also reaches a worker the supervisor started.
      detached: true,
    });
    this.child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      const m = /health server listening on port (\d+)/.exec(this.stderr);
      if (m && this.port === undefined) {
        this.port = Number(m[1]);
        void this.poll();
      }
    });
    this.exited = new Promise((resolve) =>
      this.child.on('exit', (code, signal) => {
        this.polling = false;
        if (this.readyz.length > 0 && this.readyz.at(-1)?.answer !== 'refused')
          this.readyz.push({ t: Date.now() - this.started, answer: 'refused' });
        resolve({ code, signal });
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The readiness answers, from the first one seen, as `503 → 200 → …`. */
  get readyzTransitions(): string {
    return this.readyz.map((e) => String(e.answer)).join(' → ');
  }

  signal(sig: NodeJS.Signals = 'SIGTERM'): void {
    this.child.kill(sig);
  }

  /** For a test's finally: a pod still running is stopped (SIGKILL, as the kubelet after the grace period). */
  async kill(): Promise<void> {
    try {
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      // the group is gone already
    }
    await this.exited;
  }

  /** Resolves when /readyz answers `status`; rejects if the process exits first or time runs out. */
  async waitReadyz(status: number, ms = 120_000): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (this.readyz.at(-1)?.answer === status) return;
      if (!this.polling) throw new Error(`exited before /readyz answered ${status}:\n${this.stderr}`);
      if (Date.now() > deadline)
        throw new Error(`/readyz did not answer ${status} in ${ms} ms:\n${this.stderr}`);
      await sleep(50);
    }
  }

  /** /readyz answered now. */
  async readyzNow(): Promise<number | 'refused'> {
    try {
      return (await fetch(`http://127.0.0.1:${this.port}/readyz`, { signal: AbortSignal.timeout(2000) }))
        .status;
    } catch {
      return 'refused';
    }
  }

  /** Resolves once stderr matches. */
  async waitLog(pattern: RegExp, ms = 120_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pattern.test(this.stderr)) {
      if (!this.polling) throw new Error(`exited before logging ${pattern}:\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`no ${pattern} in ${ms} ms:\n${this.stderr}`);
      await sleep(50);
    }
  }

  async result(): Promise<{ code: number | null; json: Record<string, unknown> }> {
    const { code } = await this.exited;
    return {
      code,
      json: this.stdout.trim() === '' ? {} : (JSON.parse(this.stdout) as Record<string, unknown>),
    };
  }

  private async poll(): Promise<void> {
    while (this.polling) {
      let answer: number | 'refused';
      try {
        answer = (await fetch(`http://127.0.0.1:${this.port}/readyz`, { signal: AbortSignal.timeout(2000) }))
          .status;
      } catch {
        answer = 'refused';
      }
      if (this.readyz.at(-1)?.answer !== answer) this.readyz.push({ t: Date.now() - this.started, answer });
      await sleep(50);
    }
    if (this.readyz.at(-1)?.answer !== 'refused')
      this.readyz.push({ t: Date.now() - this.started, answer: 'refused' });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

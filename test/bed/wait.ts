// Polling helpers with deadlines.
import net from 'node:net';
import { sleep } from './processes.js';

/** Polls check() until it returns true; throws describe() (evaluated at the deadline) when time runs out. */
export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  opts: { timeoutMs: number; intervalMs?: number; describe: () => Promise<string> | string },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  while (true) {
    if (await check()) return;
    if (Date.now() >= deadline) throw new Error(await opts.describe());
    await sleep(opts.intervalMs ?? 25);
  }
}

/** True when something accepts connections on the unix socket. */
export function socketAnswers(socket: string, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const conn = net.connect(socket);
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      conn.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    conn.once('connect', () => done(true));
    conn.once('error', () => done(false));
  });
}

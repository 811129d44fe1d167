/** What /proc says about a process: alive (and not a zombie), and when it started (to tell a reused pid). */
import { readFileSync } from 'node:fs';

export interface ProcessIdentity {
  readonly pid: number;
  /** Start time in clock ticks since boot (/proc/<pid>/stat field 22). */
  readonly startTime: string;
}

function stat(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may contain spaces; fields resume after the last ')'.
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

export function identify(pid: number): ProcessIdentity | undefined {
  const fields = stat(pid);
  if (fields === undefined || fields[0] === 'Z' || fields[0] === 'X') return undefined;
  return { pid, startTime: fields[19] ?? '' };
}

/** True when `id` still names the same running process. */
export function isRunning(id: ProcessIdentity): boolean {
  const now = identify(id.pid);
  return now !== undefined && now.startTime === id.startTime;
}

export function formatIdentity(id: ProcessIdentity): string {
  return `${id.pid} ${id.startTime}\n`;
}

export function parseIdentity(text: string): ProcessIdentity | undefined {
  const m = /^(\d+) (\d+)\s*$/.exec(text);
  return m ? { pid: Number(m[1]), startTime: m[2]! } : undefined;
}

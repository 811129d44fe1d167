/** Constructors for findings, so rules read as a list of outcomes. */
import type { Finding } from '../types.js';

export function pass(id: string, message: string): Finding {
  return { id, status: 'pass', message };
}
export function warn(id: string, message: string, hint?: string): Finding {
  return hint === undefined ? { id, status: 'warn', message } : { id, status: 'warn', message, hint };
}
export function fail(id: string, message: string, hint?: string): Finding {
  return hint === undefined ? { id, status: 'fail', message } : { id, status: 'fail', message, hint };
}
export function skip(id: string, message: string): Finding {
  return { id, status: 'skip', message };
}

/**
 * The DaemonSet mode's values that its long-lived process reads itself (the health port, where the last
 * words go), parsed without the settings schema: that process stays small. The workers validate everything
 * else (`daemonset.ts`) before they change anything.
 */
import { bad, ok, parseAbsolutePath, type Parsed } from './parse.js';

export const DEFAULT_HEALTH_PORT = 8090;
export const DEFAULT_DAEMONSET_NAME = 'kata-deploy';
export const DEFAULT_TERMINATION_LOG = '/dev/termination-log';

/** `HEALTH_PORT`: 1 to 65535, default 8090; 0 picks a free port (tests). */
export function parseHealthPort(raw: string): Parsed<number> {
  const v = raw.trim();
  if (v === '') return ok(DEFAULT_HEALTH_PORT);
  return /^\d{1,5}$/.test(v) && Number(v) <= 65535
    ? ok(Number(v))
    : bad('a TCP port from 1 to 65535 (0: any free port)');
}

/** `--termination-log`: an absolute path, default /dev/termination-log. */
export function parseTerminationLog(raw: string): Parsed<string> {
  return raw === '' ? ok(DEFAULT_TERMINATION_LOG) : parseAbsolutePath(raw);
}

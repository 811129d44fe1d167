/**
 * Fault injection for the crash tests: `KATA_DEPLOY_TEST_FAULT=<point>[@<n>]` SIGKILLs this process the n-th
 * time (default: the first) it reaches `<point>`. Points are named where they sit in the host layer:
 *
 *   write.opened | write.written | write.synced | write.renamed   inside every atomic write, copy and link
 *   service.spawning | service.spawned | service.recorded         inside the process supervisor's start
 *   lock.opened | lock.locked | lock.written | lock.unlinked      inside the node lock
 *
 * A point given as a prefix ending in `.` (`write.`) matches every point under it, counted together. Unset, a
 * point costs one comparison. `KATA_DEPLOY_TEST_CRASH_AFTER_STEP` (settings) kills between plan steps; this
 * kills inside them.
 */
import { UsageError } from '../errors/index.js';

export const FAULT_VARIABLE = 'KATA_DEPLOY_TEST_FAULT';

export interface FaultSpec {
  readonly point: string;
  readonly nth: number;
}

export function parseFaultSpec(raw: string | undefined): FaultSpec | undefined {
  if (raw === undefined || raw === '') return undefined;
  const m = /^([a-z]+\.[a-z]*)(?:@([1-9]\d{0,6}))?$/.exec(raw);
  if (m === null) {
    throw new UsageError(
      `${FAULT_VARIABLE}=${JSON.stringify(raw.slice(0, 80))} is not valid: expected <point>[@<n>]`,
      {
        input: FAULT_VARIABLE,
        hint: 'a test hook: e.g. write.synced@3, service.spawned, or write. for any write phase; unset it otherwise',
      },
    );
  }
  return { point: m[1]!, nth: m[2] === undefined ? 1 : Number(m[2]) };
}

let armed: FaultSpec | undefined | null = null;
let hits = 0;

/** Reads the variable once; throws a UsageError when it is malformed (call it before anything is written). */
export function checkFaults(env: NodeJS.ProcessEnv = process.env): void {
  if (armed === null) armed = parseFaultSpec(env[FAULT_VARIABLE]);
}

/** Marks a point; kills the process with SIGKILL when the armed fault is due here. */
export function faultPoint(name: string): void {
  if (armed === null) armed = parseFaultSpec(process.env[FAULT_VARIABLE]);
  const fault = armed;
  if (fault === undefined) return;
  const matches = fault.point.endsWith('.') ? name.startsWith(fault.point) : name === fault.point;
  if (matches && ++hits === fault.nth) {
    process.stderr.write(`kata-deploy: test hook: killed at ${name} (#${hits})\n`);
    process.kill(process.pid, 'SIGKILL');
  }
}

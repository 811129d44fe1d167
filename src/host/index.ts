export { createHost, SCRATCH_DIR, type Host, type HostOptions } from './host.js';
export { sha256, sha256File, TEMP_FILE, type TreeEntry } from './fs.js';
export type { ExecResult, ExecOptions } from './exec.js';
export type { NodeLock, LockOptions } from './lock.js';
export type { ServiceManager } from './service/types.js';
export { PID_DIR, processSupervisor, serviceSpecSchema, type ServiceSpec } from './service/process.js';
export { systemdManager } from './service/systemd.js';
export {
  underRoot,
  assertNodePath,
  parseHostRoot,
  requireHostRoot,
  resolveInRoot,
  type ParsedHostRoot,
} from './paths.js';
export { checkFaults, faultPoint, FAULT_VARIABLE } from './faults.js';
export * from './state.js';

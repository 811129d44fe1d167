export { createHost, type Host, type HostOptions } from './host.js';
export { sha256, sha256File, type TreeEntry } from './fs.js';
export type { ExecResult, ExecOptions } from './exec.js';
export type { NodeLock, LockOptions } from './lock.js';
export type { ServiceManager } from './service/types.js';
export { processSupervisor, serviceSpecSchema, type ServiceSpec } from './service/process.js';
export { systemdManager } from './service/systemd.js';
export { underRoot, assertNodePath } from './paths.js';
export * from './state.js';

export * from './client.js';
export * from './errors.js';
export * from './types.js';
export { DEFAULT_TIMEOUTS, type CallOptions } from './transport.js';

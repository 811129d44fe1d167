/** A service manager with nothing running that does nothing: for runs whose services are not the subject. */
import type { ServiceManager } from '../../src/host/index.js';

export function idleServices(overrides: Partial<ServiceManager> = {}): ServiceManager {
  return {
    kind: 'process',
    restart: async () => {},
    stop: async () => {},
    start: async () => {},
    isActive: async () => false,
    daemonReload: async () => {},
    describeFailure: async () => '',
    ...overrides,
  };
}

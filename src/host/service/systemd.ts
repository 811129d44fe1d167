/**
 * systemd through `systemctl`. Kept thin: it cannot run on the test bed (PID 1 is not systemd), so it only
 * maps each call to one systemctl invocation with a deadline.
 */
import { HostError } from '../../errors/index.js';
import { exec, execOk } from '../exec.js';
import type { ServiceManager } from './types.js';

const CALL_TIMEOUT_MS = 300_000;

export function systemdManager(systemctl = 'systemctl'): ServiceManager {
  const run = (...args: string[]) => execOk(systemctl, args, { timeoutMs: CALL_TIMEOUT_MS });
  return {
    kind: 'systemd',
    restart: async (unit) => void (await run('restart', unit)),
    stop: async (unit) => void (await run('stop', unit)),
    start: async (unit) => void (await run('start', unit)),
    daemonReload: async () => void (await run('daemon-reload')),
    enable: async (unit) => void (await run('enable', unit)),
    disable: async (unit) => void (await run('disable', unit)),
    async isActive(unit) {
      const result = await exec(systemctl, ['is-active', '--quiet', unit], { timeoutMs: 30_000 });
      return result.code === 0;
    },
    async describeFailure(unit) {
      try {
        const result = await exec(systemctl, ['status', '--no-pager', '--lines=10', unit], {
          timeoutMs: 30_000,
        });
        return result.stdout.trim();
      } catch (error) {
        return error instanceof HostError ? error.message : String(error);
      }
    },
  };
}

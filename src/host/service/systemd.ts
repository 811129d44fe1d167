/**
 * systemd, reached the way a pod reaches the node's: D-Bus on the node's private socket
 * (`<host-root>/run/systemd/private`), never this process's own `systemctl` (in a pod that would be the
 * image's, talking to nothing). systemd answers on that socket itself, without a bus daemon, and only to root
 * peers in its own PID namespace (it refuses a peer whose pid it cannot see), so kata-deploy needs the node's
 * PID namespace (`hostPID: true`). Every call has a deadline; start, stop and restart wait for their job's
 * result (JobRemoved); every error names the unit and the cause. See docs/lifecycle.md.
 */
import { HostError } from '../../errors/index.js';
import { exec } from '../exec.js';
import { underRoot } from '../paths.js';
import { DBusConnection, DBusConnectionError, DBusRemoteError, type MethodCall } from './dbus/connection.js';
import type { DBusValue, DBusVariant } from './dbus/wire.js';
import { describeUnitState, isActiveState, jobSucceeded, type UnitState } from './systemd-state.js';
import { SystemdUnreachableError } from './systemd-errors.js';
import type { ServiceManager } from './types.js';

export interface SystemdManagerOptions {
  /** The node's root as this process sees it (`/` on a node, `/host` in a pod). */
  readonly hostRoot: string;
  /** Deadline of one D-Bus call (connect, properties, reload). */
  readonly callTimeoutMs?: number;
  /** How long a start, stop or restart job may take. */
  readonly jobTimeoutMs?: number;
}

export const PRIVATE_SOCKET = '/run/systemd/private';
const DESTINATION = 'org.freedesktop.systemd1';
const MANAGER_PATH = '/org/freedesktop/systemd1';
const MANAGER = 'org.freedesktop.systemd1.Manager';
const NO_SUCH_UNIT = 'org.freedesktop.systemd1.NoSuchUnit';

type JobAction = 'start' | 'stop' | 'restart';
const JOB_METHOD: Record<JobAction, string> = {
  start: 'StartUnit',
  stop: 'StopUnit',
  restart: 'RestartUnit',
};

export function systemdManager(options: SystemdManagerOptions): ServiceManager {
  const socket = underRoot(options.hostRoot, PRIVATE_SOCKET);
  const callMs = options.callTimeoutMs ?? 30_000;
  const jobMs = options.jobTimeoutMs ?? 300_000;
  let connection: Promise<DBusConnection> | undefined;

  /** One connection per manager, opened on first use and again after it failed. */
  async function connect(what: string, unit: string | undefined): Promise<DBusConnection> {
    connection ??= DBusConnection.open(socket, callMs);
    try {
      return await connection;
    } catch (error) {
      connection = undefined;
      throw new SystemdUnreachableError(what, unit, socket, error);
    }
  }

  async function call(
    what: string,
    unit: string | undefined,
    c: Omit<MethodCall, 'destination'>,
    timeoutMs = callMs,
  ): Promise<readonly DBusValue[]> {
    const conn = await connect(what, unit);
    try {
      return (await conn.call({ destination: DESTINATION, ...c }, timeoutMs)).body;
    } catch (error) {
      if (error instanceof DBusConnectionError) {
        connection = undefined;
        conn.close();
        throw new SystemdUnreachableError(what, unit, socket, error);
      }
      throw error;
    }
  }

  const manager = (member: string, signature = '', body: DBusValue[] = []) => ({
    path: MANAGER_PATH,
    interface: MANAGER,
    member,
    signature,
    body,
  });

  async function property(what: string, unit: string, path: string, iface: string, name: string) {
    const [v] = await call(what, unit, {
      path,
      interface: 'org.freedesktop.DBus.Properties',
      member: 'Get',
      signature: 'ss',
      body: [iface, name],
    });
    return (v as DBusVariant).value;
  }

  /** The unit's object path, or undefined when systemd has no such unit loaded. */
  async function unitPath(what: string, unit: string): Promise<string | undefined> {
    try {
      return (await call(what, unit, manager('GetUnit', 's', [unit])))[0] as string;
    } catch (error) {
      if (error instanceof DBusRemoteError && error.errorName === NO_SUCH_UNIT) return undefined;
      throw hostError(what, unit, error);
    }
  }

  async function unitState(what: string, unit: string): Promise<UnitState | undefined> {
    const path = await unitPath(what, unit);
    if (path === undefined) return undefined;
    const read = (iface: string, name: string) => property(what, unit, path, iface, name);
    const u = 'org.freedesktop.systemd1.Unit';
    const state: UnitState = {
      loadState: String(await read(u, 'LoadState')),
      activeState: String(await read(u, 'ActiveState')),
      subState: String(await read(u, 'SubState')),
    };
    if (!unit.endsWith('.service')) return state;
    const s = 'org.freedesktop.systemd1.Service';
    return {
      ...state,
      result: String(await read(s, 'Result')),
      execMainCode: Number(await read(s, 'ExecMainCode')),
      execMainStatus: Number(await read(s, 'ExecMainStatus')),
    };
  }

  /** Queues the job and waits for its JobRemoved; signals are collected from before the call (no race). */
  async function runJob(action: JobAction, unit: string): Promise<void> {
    const conn = await connect(action, unit);
    const results = new Map<string, string>();
    let wake: () => void = () => undefined;
    const stopListening = conn.onSignal((m) => {
      if (m.interface !== MANAGER || m.member !== 'JobRemoved') return;
      results.set(m.body[1] as string, m.body[3] as string);
      wake();
    });
    try {
      let job: string;
      try {
        job = (await call(action, unit, manager(JOB_METHOD[action], 'ss', [unit, 'replace'])))[0] as string;
      } catch (error) {
        if (action === 'stop' && error instanceof DBusRemoteError && error.errorName === NO_SUCH_UNIT) return;
        throw hostError(action, unit, error);
      }
      const deadline = Date.now() + jobMs;
      while (!results.has(job)) {
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new HostError(`${action} ${unit}: systemd's job ${job} did not finish within ${jobMs} ms`, {
            input: unit,
            hint: `see \`systemctl status ${unit}\` and \`journalctl -u ${unit}\` on the node`,
          });
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(left, 1000));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      const result = results.get(job)!;
      if (!jobSucceeded(result)) {
        throw new HostError(
          `${action} ${unit} failed: systemd's job ended "${result}"\n${await self.describeFailure(unit)}`,
          { input: unit, hint: `see \`journalctl -u ${unit}\` on the node` },
        );
      }
      if (action !== 'stop') {
        const state = await unitState(action, unit);
        if (state?.activeState === 'failed') {
          throw new HostError(`${action} ${unit} failed: ${describeUnitState(unit, state)}`, {
            input: unit,
            hint: `see \`journalctl -u ${unit}\` on the node`,
          });
        }
      }
    } finally {
      stopListening();
    }
  }

  async function journalTail(unit: string): Promise<string> {
    for (const dir of ['/run/log/journal', '/var/log/journal']) {
      const result = await exec(
        'journalctl',
        [
          '--directory',
          underRoot(options.hostRoot, dir),
          '--unit',
          unit,
          '--lines',
          '10',
          '--output',
          'cat',
          '--no-pager',
        ],
        { timeoutMs: 10_000 },
      ).catch(() => undefined);
      if (result?.code === 0 && result.stdout.trim() !== '') return result.stdout.trimEnd();
    }
    return '';
  }

  const self: ServiceManager = {
    kind: 'systemd',
    start: (unit) => runJob('start', unit),
    stop: (unit) => runJob('stop', unit),
    restart: (unit) => runJob('restart', unit),
    async isActive(unit) {
      try {
        const state = await unitState('check', unit);
        return state !== undefined && isActiveState(state.activeState);
      } catch (error) {
        throw hostError('check', unit, error);
      }
    },
    async daemonReload() {
      try {
        await call('reload', undefined, manager('Reload'), jobMs);
      } catch (error) {
        throw hostError('reload', undefined, error);
      }
    },
    async enable(unit) {
      try {
        await call('enable', unit, manager('EnableUnitFiles', 'asbb', [[unit], false, true]));
      } catch (error) {
        throw hostError('enable', unit, error);
      }
    },
    async disable(unit) {
      try {
        await call('disable', unit, manager('DisableUnitFiles', 'asb', [[unit], false]));
      } catch (error) {
        if (error instanceof DBusRemoteError && error.errorName === NO_SUCH_UNIT) return;
        throw hostError('disable', unit, error);
      }
    },
    async describeFailure(unit) {
      try {
        const state = await unitState('describe', unit);
        const journal = await journalTail(unit);
        const head = state === undefined ? `${unit}: not loaded` : describeUnitState(unit, state);
        return journal === '' ? head : `${head}\nlast journal lines of ${unit}:\n${journal}`;
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    },
  };
  return self;
}

/** systemd's own error answers become HostErrors naming the action and unit; unreachability passes as is. */
function hostError(action: string, unit: string | undefined, error: unknown): Error {
  if (error instanceof SystemdUnreachableError || error instanceof HostError) return error;
  const cause = error instanceof Error ? error.message : String(error);
  return new HostError(`${action}${unit === undefined ? '' : ` ${unit}`}: systemd answered: ${cause}`, {
    input: unit,
    cause: error,
  });
}

/**
 * A plain process supervisor for hosts without systemd (the sandbox and the tests). A unit is defined by a
 * JSON spec at `<spec dir>/<unit>.json` under the host root:
 *
 *   { "command": "/usr/bin/containerd", "args": ["--config", "/x/etc/containerd/config.toml"],
 *     "env": { "KEY": "value" }, "logFile": "/var/log/containerd.log", "pidFile": "/run/containerd.pid" }
 *
 * `command`, `args` and `env` are used as written (paths this process can run); `logFile` and `pidFile` are
 * node paths, resolved under the host root. The service runs detached (it outlives kata-deploy); stop is SIGTERM
 * then SIGKILL, restart is stop + start.
 *
 * The pid is recorded before the service runs, by the service's own process: it starts as a small shell that
 * writes its pid and start time to the pid file and then execs the command (same pid). So a kata-deploy killed
 * at any moment of a start never leaves a service nobody tracks, which would keep serving an old config while
 * every later start added another one. For the few milliseconds between the spawn and that record, a
 * `.starting` marker written before the spawn tells a next run to look for the start's shell by its command
 * line and wait for its record, instead of starting a second copy.
 */
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { HostError } from '../../errors/index.js';
import { faultPoint } from '../faults.js';
import { mkdirp, readIfExists, removeFile, tempName, writeAtomic } from '../fs.js';
import { resolveForWrite, resolveInRoot } from '../paths.js';
import { identify, isRunning, parseIdentity, type ProcessIdentity } from '../proc.js';
import type { ServiceManager } from './types.js';

/** Where pid files go when a spec names none (node path). */
export const PID_DIR = '/run/kata-deploy/services';

/** Long enough for a spawn to have become the recording shell (fork, exec): a marker older has one or none. */
const SPAWN_SETTLE_MS = 1_000;
/** How long a start waits for the shell it spawned to record itself before calling the start failed. */
const RECORD_TIMEOUT_MS = 30_000;
export const WRAPPER_NAME = 'kata-deploy-service';

/**
 * `$1` pid file, `$2` a temp name beside it, then the command and its arguments. Field 22 of /proc/<pid>/stat
 * is the start time; the fields before it end with the command name in parentheses, dropped first.
 */
export const RECORD_THEN_EXEC = [
  'set -e',
  'pidfile=$1; temp=$2; shift 2',
  'read -r stat < /proc/$$/stat',
  'stat=${stat##*) }',
  'starttime() { shift 19; printf %s "$1"; }',
  'printf \'%s %s\\n\' "$$" "$(starttime $stat)" > "$temp"',
  'PATH=/usr/sbin:/usr/bin:/sbin:/bin mv -f "$temp" "$pidfile"',
  'PATH=/usr/sbin:/usr/bin:/sbin:/bin rm -f "$pidfile.starting"',
  'exec "$@"',
].join('\n');

export const serviceSpecSchema = z.object({
  command: z.string().startsWith('/'),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  cwd: z.string().startsWith('/').optional(),
  logFile: z.string().startsWith('/'),
  pidFile: z.string().startsWith('/').optional(),
  stopTimeoutMs: z.number().int().positive().default(10_000),
});
export type ServiceSpec = z.input<typeof serviceSpecSchema>;

export interface ProcessSupervisorOptions {
  readonly hostRoot: string;
  /** Node path of the directory with the `<unit>.json` specs. */
  readonly specDir: string;
}

/** Pids of start shells (`sh -c <script> kata-deploy-service <pid file> …`) that have not exec'd yet. */
async function recordingShells(pidFile: string): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(name)) continue;
    const argv = (await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '')).split('\0');
    const isShell = argv[0] === '/bin/sh' && argv[1] === '-c' && argv[3] === WRAPPER_NAME;
    if (isShell && argv[4] === pidFile && identify(Number(name)) !== undefined) found.push(Number(name));
  }
  return found;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function processSupervisor(options: ProcessSupervisorOptions): ServiceManager {
  const { hostRoot, specDir } = options;
  const specPath = (unit: string) => resolveInRoot(hostRoot, `${specDir}/${unit}.json`).real;

  async function loadSpec(unit: string) {
    const text = await readIfExists(specPath(unit));
    if (text === undefined) {
      throw new HostError(`no service spec for ${unit} at ${specPath(unit)}`, {
        input: unit,
        hint: 'write one, or use --service-manager systemd on a node with systemd',
      });
    }
    let json: unknown;
    try {
      json = JSON.parse(text.toString('utf8'));
    } catch (error) {
      throw new HostError(`the service spec ${specPath(unit)} is not JSON`, {
        input: specPath(unit),
        cause: error,
      });
    }
    const parsed = serviceSpecSchema.safeParse(json);
    if (!parsed.success) {
      throw new HostError(
        `the service spec ${specPath(unit)} is invalid: ${parsed.error.issues[0]?.message}`,
        {
          input: specPath(unit),
        },
      );
    }
    const pidFile = resolveForWrite(hostRoot, parsed.data.pidFile ?? `${PID_DIR}/${unit}.pid`);
    return { ...parsed.data, pidFile, logPath: resolveForWrite(hostRoot, parsed.data.logFile) };
  }
  type Spec = Awaited<ReturnType<typeof loadSpec>>;

  async function recorded(pidFile: string): Promise<ProcessIdentity | undefined> {
    const text = await readIfExists(pidFile);
    const id = text === undefined ? undefined : parseIdentity(text.toString('utf8'));
    return id !== undefined && isRunning(id) ? id : undefined;
  }

  /**
   * The running service. When a `.starting` marker says a start was under way (its kata-deploy may have been
   * killed), the start's shell is found by its command line (`sh -c … kata-deploy-service <pid file>`) and
   * awaited until it has recorded itself; with no such shell left, nothing was started, and the marker goes.
   */
  async function running(spec: Spec): Promise<ProcessIdentity | undefined> {
    const marker = `${spec.pidFile}.starting`;
    const deadline = Date.now() + RECORD_TIMEOUT_MS;
    for (;;) {
      // In this order: the shell records itself before it removes the marker.
      const since = (await readIfExists(marker))?.toString('utf8');
      const shells = since === undefined ? [] : await recordingShells(spec.pidFile);
      const id = await recorded(spec.pidFile);
      if (id !== undefined || since === undefined) return id;
      const settled = !(Math.abs(Date.now() - Number(since)) <= SPAWN_SETTLE_MS);
      if ((shells.length === 0 && settled) || Date.now() > deadline) {
        await removeFile(marker);
        return undefined;
      }
      await sleep(20);
    }
  }

  async function waitGone(id: ProcessIdentity, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (!isRunning(id)) return true;
      await sleep(50);
    }
    return !isRunning(id);
  }

  /** Waits until the started shell has recorded itself (it then execs the command under the same pid). */
  async function waitRecorded(spec: Spec, unit: string, pid: number): Promise<void> {
    const deadline = Date.now() + RECORD_TIMEOUT_MS;
    for (;;) {
      const id = parseIdentity((await readIfExists(spec.pidFile))?.toString('utf8') ?? '');
      if (id?.pid === pid && isRunning(id)) return;
      if (identify(pid) === undefined || Date.now() > deadline) {
        throw new HostError(`${unit} exited right after it started`, {
          input: unit,
          hint: `see ${spec.logPath}`,
        });
      }
      await sleep(10);
    }
  }

  const manager: ServiceManager = {
    kind: 'process',
    async start(unit) {
      const spec = await loadSpec(unit);
      if ((await running(spec)) !== undefined) return;
      await mkdirp(dirname(spec.logPath));
      await mkdirp(dirname(spec.pidFile));
      await writeAtomic(`${spec.pidFile}.starting`, `${Date.now()}\n`);
      faultPoint('service.spawning');
      const log = openSync(spec.logPath, 'a');
      let pid: number;
      try {
        const child = spawn(
          '/bin/sh',
          [
            '-c',
            RECORD_THEN_EXEC,
            WRAPPER_NAME,
            spec.pidFile,
            tempName(spec.pidFile),
            spec.command,
            ...spec.args,
          ],
          {
            detached: true,
            stdio: ['ignore', log, log],
            env: { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...spec.env },
            cwd: spec.cwd ?? '/',
          },
        );
        pid = await new Promise<number>((resolve, reject) => {
          child.once('error', reject);
          child.once('spawn', () => resolve(child.pid!));
        });
        child.unref();
      } catch (error) {
        throw new HostError(`cannot start ${unit} (${spec.command}): ${String(error)}`, {
          input: unit,
          cause: error,
        });
      } finally {
        closeSync(log);
      }
      faultPoint('service.spawned');
      try {
        await waitRecorded(spec, unit, pid);
      } catch (error) {
        await removeFile(`${spec.pidFile}.starting`);
        throw error;
      }
      faultPoint('service.recorded');
      await removeFile(`${spec.pidFile}.starting`);
    },
    async stop(unit) {
      const spec = await loadSpec(unit);
      const id = await running(spec);
      if (id !== undefined) {
        process.kill(id.pid, 'SIGTERM');
        if (!(await waitGone(id, spec.stopTimeoutMs))) {
          process.kill(id.pid, 'SIGKILL');
          if (!(await waitGone(id, 5_000))) throw new HostError(`${unit} (pid ${id.pid}) survived SIGKILL`);
        }
      }
      await removeFile(spec.pidFile);
    },
    async restart(unit) {
      await manager.stop(unit);
      await manager.start(unit);
    },
    async isActive(unit) {
      if ((await readIfExists(specPath(unit))) === undefined) return false;
      return (await running(await loadSpec(unit))) !== undefined;
    },
    async daemonReload() {
      // Specs are read on every start; there is nothing to reload.
    },
    async describeFailure(unit) {
      try {
        const spec = await loadSpec(unit);
        const log = (await readIfExists(spec.logPath))?.toString('utf8') ?? '';
        const tail = log.trimEnd().split('\n').slice(-8).join('\n');
        return `last lines of ${spec.logPath}:\n${tail}`;
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    },
  };
  return manager;
}

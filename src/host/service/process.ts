/**
 * A plain process supervisor for hosts without systemd (the sandbox and the tests). A unit is defined by a
 * JSON spec at `<spec dir>/<unit>.json` under the host root:
 *
 *   { "command": "/usr/bin/containerd", "args": ["--config", "/x/etc/containerd/config.toml"],
 *     "env": { "KEY": "value" }, "logFile": "/var/log/containerd.log", "pidFile": "/run/containerd.pid" }
 *
 * `command`, `args` and `env` are used as written (paths this process can run); `logFile` and `pidFile` are
 * node paths, resolved under the host root. The service runs detached (it outlives kata-deploy), its pid and
 * start time go to the pid file, stop is SIGTERM then SIGKILL, restart is stop + start.
 */
import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { HostError } from '../../errors/index.js';
import { mkdirp, readIfExists, removeFile, writeAtomic } from '../fs.js';
import { underRoot } from '../paths.js';
import { formatIdentity, identify, isRunning, parseIdentity, type ProcessIdentity } from '../proc.js';
import type { ServiceManager } from './types.js';

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function processSupervisor(options: ProcessSupervisorOptions): ServiceManager {
  const { hostRoot, specDir } = options;
  const specPath = (unit: string) => underRoot(hostRoot, `${specDir}/${unit}.json`);

  async function loadSpec(unit: string) {
    const text = await readIfExists(specPath(unit));
    if (text === undefined) {
      throw new HostError(`no service spec for ${unit} at ${specPath(unit)}`, {
        input: unit,
        hint: 'write one, or use --service-manager systemd on a node with systemd',
      });
    }
    const parsed = serviceSpecSchema.safeParse(JSON.parse(text.toString('utf8')));
    if (!parsed.success) {
      throw new HostError(
        `the service spec ${specPath(unit)} is invalid: ${parsed.error.issues[0]?.message}`,
        {
          input: specPath(unit),
        },
      );
    }
    const pidFile = underRoot(hostRoot, parsed.data.pidFile ?? `/run/kata-deploy/services/${unit}.pid`);
    return { ...parsed.data, pidFile, logPath: underRoot(hostRoot, parsed.data.logFile) };
  }

  async function running(pidFile: string): Promise<ProcessIdentity | undefined> {
    const text = await readIfExists(pidFile);
    const id = text === undefined ? undefined : parseIdentity(text.toString('utf8'));
    return id !== undefined && isRunning(id) ? id : undefined;
  }

  async function waitGone(id: ProcessIdentity, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      if (!isRunning(id)) return true;
      await sleep(50);
    }
    return !isRunning(id);
  }

  const manager: ServiceManager = {
    kind: 'process',
    async start(unit) {
      const spec = await loadSpec(unit);
      if ((await running(spec.pidFile)) !== undefined) return;
      await mkdirp(dirname(spec.logPath));
      const log = openSync(spec.logPath, 'a');
      let pid: number | undefined;
      try {
        const child = spawn(spec.command, spec.args, {
          detached: true,
          stdio: ['ignore', log, log],
          env: { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...spec.env },
          cwd: spec.cwd ?? '/',
        });
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
      const id = identify(pid);
      if (id === undefined) {
        throw new HostError(`${unit} exited right after it started`, {
          input: unit,
          hint: `see ${spec.logPath}`,
        });
      }
      await writeAtomic(spec.pidFile, formatIdentity(id));
    },
    async stop(unit) {
      const spec = await loadSpec(unit);
      const id = await running(spec.pidFile);
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
      return (await running((await loadSpec(unit)).pidFile)) !== undefined;
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

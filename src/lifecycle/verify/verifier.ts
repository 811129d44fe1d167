/**
 * Restart and verify. Restart goes through the service manager and waits until containerd answers on its
 * socket; if it does not come back, the previous configuration is written back and containerd restarted once
 * more before failing with the reason. Verification reads what containerd actually loaded: `containerd config
 * dump` (imports resolved) and, where the CRI plugin runs, its runtime status.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { patch } from '@decimalturn/toml-patch';
import { HostError } from '../../errors/index.js';
import type { Host } from '../../host/index.js';
import type { Names } from '../../names/index.js';
import type { Logger } from '../../output/log.js';
import { getAt, isTable, parseToml } from '../../containerd/config/toml.js';
import { containerdVersion, criStatus } from './grpc.js';

export interface Verifier {
  restart(
    unit: string | undefined,
    restore: readonly { path: string; content: string | undefined }[],
  ): Promise<void>;
  verify(handlers: readonly string[], expect: 'present' | 'absent'): Promise<void>;
}

export interface VerifierOptions {
  readonly host: Host;
  readonly names: Names;
  readonly log: Logger;
  /** containerd binary for `config dump`; without one that check is skipped. */
  readonly containerdBinary: string | undefined;
  readonly timeoutMs: number;
}

const RUNTIME_TABLES = [
  ['plugins', 'io.containerd.cri.v1.runtime', 'containerd', 'runtimes'],
  ['plugins', 'io.containerd.grpc.v1.cri', 'containerd', 'runtimes'],
];

export function createVerifier(options: VerifierOptions): Verifier {
  const { host, names, log } = options;
  const socket = host.path(names.containerd.socket);

  async function waitAnswer(ms: number): Promise<string | undefined> {
    const deadline = Date.now() + ms;
    let last = 'no answer';
    while (Date.now() < deadline) {
      try {
        await containerdVersion(socket, Math.min(2000, Math.max(200, deadline - Date.now())));
        return undefined;
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    return `containerd did not answer on ${names.containerd.socket} within ${ms} ms (${last})`;
  }

  async function restartOnce(unit: string | undefined): Promise<string | undefined> {
    if (unit !== undefined) {
      try {
        await host.services.daemonReload();
        await host.services.restart(unit);
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    }
    return waitAnswer(options.timeoutMs);
  }

  return {
    async restart(unit, restore) {
      const started = Date.now();
      const failure = await restartOnce(unit);
      if (failure === undefined) {
        log.info(`${unit ?? 'containerd'} answered ${Date.now() - started} ms after the restart`);
        return;
      }
      const why = unit === undefined ? '' : `\n${await host.services.describeFailure(unit)}`;
      if (restore.length === 0)
        throw new HostError(`containerd did not come back: ${failure}${why}`, { input: unit });
      for (const { path, content } of restore) {
        if (content === undefined) await host.remove(path);
        else await host.writeAtomic(path, content);
      }
      const again = await restartOnce(unit);
      throw new HostError(
        `containerd did not come back with the new configuration: ${failure}${why}\n` +
          (again === undefined
            ? 'the previous configuration was restored and containerd restarted with it'
            : `the previous configuration was restored, but containerd did not come back either: ${again}`),
        { input: unit, hint: 'fix the cause above, then run kata-deploy again' },
      );
    },

    async verify(handlers, expect) {
      const problems: string[] = [];
      const dumped = await dumpedHandlers(options);
      if (dumped !== undefined) problems.push(...compare('containerd config dump', dumped, handlers, expect));
      let cri;
      try {
        cri = await criStatus(socket, 10_000);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        // A containerd that is not running serves nothing: fine for cleanup, a failure for install.
        if (expect === 'present') problems.push(`the CRI status call failed: ${reason}`);
        else log.warn(`containerd did not answer the CRI status call (${reason}); not checked`);
      }
      if (cri === undefined)
        log.debug('the CRI plugin is not serving on this socket; its status was not checked');
      else problems.push(...compare('the CRI runtime status', cri.handlers, handlers, expect));
      if (problems.length > 0) {
        throw new HostError(problems.join('; '), {
          input: names.containerd.configFile,
          hint: 'check containerd’s log for configuration errors',
        });
      }
      log.info(
        `containerd ${expect === 'present' ? 'serves' : 'no longer serves'} ${handlers.join(', ')}` +
          ` (checked: ${[dumped && 'config dump', cri && 'CRI status'].filter(Boolean).join(', ') || 'nothing available'})`,
      );
    },
  };
}

function compare(
  source: string,
  found: readonly string[],
  handlers: readonly string[],
  expect: 'present' | 'absent',
) {
  const bad = handlers.filter((h) => found.includes(h) !== (expect === 'present'));
  if (bad.length === 0) return [];
  return [`${source} ${expect === 'present' ? 'lacks' : 'still has'} ${bad.join(', ')}`];
}

/** Handler names in `containerd config dump`, imports mapped under the host root; undefined when not possible. */
async function dumpedHandlers(options: VerifierOptions): Promise<string[] | undefined> {
  const { host, names, log } = options;
  const c = names.containerd;
  if (options.containerdBinary === undefined || c.runtime === 'microk8s' || c.runtime.startsWith('k0s'))
    return undefined;
  const text = (await host.readText(c.configFile)) ?? '';
  const doc = parseToml(text, c.configFile);
  const imports = doc['imports'];
  let mapped = text;
  if (Array.isArray(imports) && imports.length > 0) {
    const updated = structuredClone(doc);
    updated['imports'] = imports.map((i) =>
      host.path(String(i).startsWith('/') ? String(i) : `${c.configDir}/${String(i)}`),
    );
    mapped = patch(text, updated);
  }
  const dir = await host.makeScratchDir('dump'); // under the host root, never the machine's /tmp
  try {
    await writeFile(join(dir, 'config.toml'), mapped);
    const args = ['--config', join(dir, 'config.toml'), 'config', 'dump'];
    const result = await host
      .exec(options.containerdBinary, args, { timeoutMs: 30_000 })
      .catch((error: unknown) => {
        log.warn(`could not run ${options.containerdBinary} config dump: ${String(error)}`);
        return undefined;
      });
    if (result === undefined) return undefined;
    if (result.code !== 0) {
      throw new HostError(`containerd config dump failed: ${result.stderr.trim().split('\n').at(-1) ?? ''}`, {
        input: c.configFile,
      });
    }
    const dump = parseToml(result.stdout, 'containerd config dump');
    const found = new Set<string>();
    for (const path of RUNTIME_TABLES) {
      const table = getAt(dump, path);
      if (isTable(table)) for (const key of Object.keys(table)) found.add(key);
    }
    return [...found];
  } finally {
    await host.removeScratchDir(dir);
  }
}

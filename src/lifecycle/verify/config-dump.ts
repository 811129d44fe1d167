/**
 * The handlers in containerd's effective configuration: `containerd config dump` of the configuration on disk,
 * its `imports` mapped under the host root. The configuration goes to containerd through a pipe on its stdin
 * (`--config /dev/stdin`), so nothing is written anywhere for it: no temp file in the machine's /tmp, and
 * nothing a kill could leave behind on the node.
 */
import { patch } from '@decimalturn/toml-patch';
import type { Host } from '../../host/index.js';
import type { Names } from '../../names/index.js';
import { getAt, isTable, parseToml } from '../../containerd/config/toml.js';
import type { DumpObservation } from './verdict.js';

const RUNTIME_TABLES = [
  ['plugins', 'io.containerd.cri.v1.runtime', 'containerd', 'runtimes'],
  ['plugins', 'io.containerd.grpc.v1.cri', 'containerd', 'runtimes'],
];

/** The main config's text with every `imports` entry as this process sees it (under the host root). */
function configSeenFromHere(text: string, host: Host, c: Names['containerd']): string {
  const doc = parseToml(text, c.configFile);
  const imports = doc['imports'];
  if (!Array.isArray(imports) || imports.length === 0) return text;
  const updated = structuredClone(doc);
  updated['imports'] = imports.map((i) =>
    host.path(String(i).startsWith('/') ? String(i) : `${c.configDir}/${String(i)}`),
  );
  return patch(text, updated);
}

export async function dumpHandlers(
  host: Host,
  names: Names,
  containerdBinary: string | undefined,
): Promise<DumpObservation> {
  const c = names.containerd;
  if (containerdBinary === undefined)
    return { state: 'not-applicable', reason: 'no containerd binary found to run `containerd config dump`' };
  if (c.runtime === 'microk8s' || c.runtime.startsWith('k0s'))
    return {
      state: 'not-applicable',
      reason: `${c.runtime} renders containerd's configuration itself; its dump cannot be run from the files`,
    };
  let config: string;
  try {
    config = configSeenFromHere((await host.readText(c.configFile)) ?? '', host, c);
  } catch (error) {
    return { state: 'failed', reason: `cannot read ${c.configFile}: ${String(error)}` };
  }
  // Node hands a child its stdin as a unix socket, which /dev/stdin cannot be opened on (ENXIO); `cat |` gives
  // containerd a pipe.
  const args = ['-c', 'cat | "$0" "$@"', containerdBinary, '--config', '/dev/stdin', 'config', 'dump'];
  let result;
  try {
    result = await host.exec('/bin/sh', args, { timeoutMs: 30_000, input: config });
  } catch (error) {
    return { state: 'failed', reason: `could not run ${containerdBinary} config dump: ${String(error)}` };
  }
  if (result.code !== 0) {
    const last = result.stderr.trim().split('\n').at(-1) ?? '';
    return { state: 'failed', reason: `${containerdBinary} config dump failed: ${last}` };
  }
  try {
    const dump = parseToml(result.stdout, 'containerd config dump');
    const found = new Set<string>();
    for (const path of RUNTIME_TABLES) {
      const table = getAt(dump, path);
      if (isTable(table)) for (const key of Object.keys(table)) found.add(key);
    }
    return { state: 'seen', handlers: [...found].sort() };
  } catch (error) {
    return { state: 'failed', reason: `containerd config dump printed no TOML: ${String(error)}` };
  }
}

/**
 * containerd's root directory on a node whose containerd does not answer, found from how the runtime starts
 * it. containerd's command line overrides its config, and k3s, rke2, k0s and microk8s all pass `--root`
 * themselves (k3s/rke2: `<data-dir>/agent/containerd`; k0s: `<data-dir>/containerd`; microk8s: its args
 * file). A root is "found" only when the unit, the args file or a config that sets `root` was actually read;
 * containerd's built-in default counts only when its unit was read and neither it nor the config moves it.
 * Otherwise nothing is found, and callers keep the data.
 */
import { readFile, readdir } from 'node:fs/promises';
import { basename } from 'node:path';
import { isErrno } from '../../errors/errors.js';
import { underRoot } from '../../host/paths.js';
import type { RuntimeName } from '../../settings/types.js';
import { readMergedContainerdConfig } from '../config/merged.js';
import {
  CONTAINERD_CONFIG_FLAGS,
  CONTAINERD_ROOT_FLAGS,
  DATA_DIR_FLAGS,
  expand,
  flagValue,
  parseEnvironmentFile,
  splitCommandLine,
  unitCommand,
  yamlDataDir,
  type UnitText,
} from './command-line.js';

export const CONTAINERD_DEFAULT_ROOT = '/var/lib/containerd';

export type RootFinding =
  | { readonly found: true; readonly root: string; readonly how: string }
  | { readonly found: false; readonly tried: readonly string[] };

/** Where systemd looks for units, highest precedence first. */
const UNIT_DIRS = [
  '/etc/systemd/system',
  '/run/systemd/system',
  '/usr/local/lib/systemd/system',
  '/lib/systemd/system',
  '/usr/lib/systemd/system',
];

const MICROK8S_ARGS = '/var/snap/microk8s/current/args/containerd';
const MICROK8S_ENV = new Map([
  ['SNAP', '/snap/microk8s/current'],
  ['SNAP_DATA', '/var/snap/microk8s/current'],
  ['SNAP_COMMON', '/var/snap/microk8s/common'],
]);

interface Rancher {
  readonly unit: string;
  readonly dataDir: string;
  readonly envVar: string;
  readonly configYaml: string;
}

const RANCHER: Partial<Record<RuntimeName, Rancher>> = {
  k3s: k3s('k3s.service'),
  'k3s-agent': k3s('k3s-agent.service'),
  'rke2-server': rke2('rke2-server.service'),
  'rke2-agent': rke2('rke2-agent.service'),
};

function k3s(unit: string): Rancher {
  return { unit, dataDir: '/var/lib/rancher/k3s', envVar: 'K3S_DATA_DIR', configYaml: '/etc/rancher/k3s' };
}
function rke2(unit: string): Rancher {
  return { unit, dataDir: '/var/lib/rancher/rke2', envVar: 'RKE2_DATA_DIR', configYaml: '/etc/rancher/rke2' };
}

const K0S_UNITS: Partial<Record<RuntimeName, string>> = {
  'k0s-worker': 'k0sworker.service',
  'k0s-controller': 'k0scontroller.service',
};

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR', 'EISDIR')) return undefined;
    throw error;
  }
}

async function list(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR')) return [];
    throw error;
  }
}

/** A unit file and its drop-ins as systemd would assemble them, read under the host root. */
async function readUnit(unit: string, hostRoot: string): Promise<UnitText[] | undefined> {
  let main: UnitText | undefined;
  for (const dir of UNIT_DIRS) {
    const file = `${dir}/${unit}`;
    const text = await readText(underRoot(hostRoot, file));
    if (text !== undefined) {
      main = { file, text };
      break;
    }
  }
  if (main === undefined) return undefined;
  const dropIns = new Map<string, string>();
  for (const dir of [...UNIT_DIRS].reverse()) {
    for (const name of await list(underRoot(hostRoot, `${dir}/${unit}.d`))) {
      if (name.endsWith('.conf')) dropIns.set(name, `${dir}/${unit}.d/${name}`);
    }
  }
  const texts: UnitText[] = [main];
  for (const name of [...dropIns.keys()].sort()) {
    const file = dropIns.get(name)!;
    const text = await readText(underRoot(hostRoot, file));
    if (text !== undefined) texts.push({ file, text });
  }
  return texts;
}

const describeUnit = (texts: readonly UnitText[]): string =>
  texts.length === 1
    ? texts[0]!.file
    : `${texts[0]!.file} (+ ${texts
        .slice(1)
        .map((t) => basename(t.file))
        .join(', ')})`;

async function vanilla(configFile: string, hostRoot: string, tried: string[]): Promise<RootFinding> {
  const unit = await readUnit('containerd.service', hostRoot);
  const argv = unit === undefined ? undefined : unitCommand(unit).argv;
  if (unit === undefined) tried.push('no containerd.service unit under the host root');
  else if (argv === undefined) tried.push(`${describeUnit(unit)} has no ExecStart`);
  if (unit !== undefined && argv !== undefined) {
    const root = flagValue(argv, CONTAINERD_ROOT_FLAGS);
    if (root !== undefined)
      return { found: true, root, how: `--root in the ExecStart of ${describeUnit(unit)}` };
    configFile = flagValue(argv, CONTAINERD_CONFIG_FLAGS) ?? configFile;
  }
  const config = await readMergedContainerdConfig(configFile, hostRoot);
  if (config.root !== undefined)
    return { found: true, root: config.root.value, how: `root in ${config.root.file}` };
  tried.push(`${configFile} ${config.mainExists ? 'sets no root' : 'does not exist'}`);
  if (unit !== undefined && argv !== undefined) {
    return {
      found: true,
      root: CONTAINERD_DEFAULT_ROOT,
      how: `${describeUnit(unit)} starts containerd without --root and ${configFile} ${config.mainExists ? 'sets no root' : 'does not exist'}: containerd's built-in default`,
    };
  }
  return { found: false, tried };
}

async function rancher(
  r: Rancher,
  configFile: string,
  hostRoot: string,
  tried: string[],
): Promise<RootFinding> {
  const unit = await readUnit(r.unit, hostRoot);
  const command = unit === undefined ? undefined : unitCommand(unit);
  if (unit !== undefined && command?.argv !== undefined) {
    let dataDir = flagValue(command.argv, DATA_DIR_FLAGS);
    let how = `--data-dir in the ExecStart of ${describeUnit(unit)}`;
    if (dataDir === undefined) {
      const env = new Map(command.environment);
      for (const file of command.environmentFiles) {
        const text = await readText(underRoot(hostRoot, file));
        if (text !== undefined) for (const [k, v] of parseEnvironmentFile(text)) env.set(k, v);
      }
      dataDir = env.get(r.envVar);
      how = `${r.envVar} in the environment of ${describeUnit(unit)}`;
    }
    if (dataDir === undefined) {
      const yamls = [
        `${r.configYaml}/config.yaml`,
        ...(await list(underRoot(hostRoot, `${r.configYaml}/config.yaml.d`)))
          .filter((n) => n.endsWith('.yaml') || n.endsWith('.yml'))
          .sort()
          .map((n) => `${r.configYaml}/config.yaml.d/${n}`),
      ];
      for (const file of yamls) {
        const text = await readText(underRoot(hostRoot, file));
        const value = text === undefined ? undefined : yamlDataDir(text);
        if (value !== undefined) {
          dataDir = value;
          how = `data-dir in ${file}`;
        }
      }
    }
    if (dataDir === undefined) {
      dataDir = r.dataDir;
      how = `${describeUnit(unit)} and ${r.configYaml}/config.yaml leave the data dir at its default`;
    }
    return { found: true, root: `${dataDir}/agent/containerd`, how };
  }
  tried.push(unit === undefined ? `no ${r.unit} unit under the host root` : `${r.unit} has no ExecStart`);
  const config = await readMergedContainerdConfig(configFile, hostRoot);
  if (config.root !== undefined)
    return { found: true, root: config.root.value, how: `root in ${config.root.file}` };
  tried.push(`${configFile} ${config.mainExists ? 'sets no root' : 'does not exist'}`);
  return { found: false, tried };
}

async function k0s(unitName: string, hostRoot: string, tried: string[]): Promise<RootFinding> {
  const unit = await readUnit(unitName, hostRoot);
  const argv = unit === undefined ? undefined : unitCommand(unit).argv;
  if (unit === undefined || argv === undefined) {
    tried.push(`no ${unitName} unit with an ExecStart under the host root`);
    return { found: false, tried };
  }
  const dataDir = flagValue(argv, DATA_DIR_FLAGS);
  return {
    found: true,
    root: `${dataDir ?? '/var/lib/k0s'}/containerd`,
    how:
      dataDir === undefined
        ? `${describeUnit(unit)} starts k0s without --data-dir (k0s passes --root <data-dir>/containerd)`
        : `--data-dir in the ExecStart of ${describeUnit(unit)}`,
  };
}

async function microk8s(hostRoot: string, tried: string[]): Promise<RootFinding> {
  const text = await readText(underRoot(hostRoot, MICROK8S_ARGS));
  if (text === undefined) {
    tried.push(`${MICROK8S_ARGS} does not exist`);
    return { found: false, tried };
  }
  const argv = text
    .split('\n')
    .filter((l) => !l.trim().startsWith('#'))
    .flatMap((l) => splitCommandLine(l))
    .map((w) => expand(w, MICROK8S_ENV));
  const root = flagValue(argv, CONTAINERD_ROOT_FLAGS);
  if (root === undefined) {
    tried.push(`${MICROK8S_ARGS} has no --root`);
    return { found: false, tried };
  }
  return { found: true, root, how: `--root in ${MICROK8S_ARGS}` };
}

/**
 * containerd's root for `runtime`, from its unit, args file or config (node paths throughout). With
 * `configOnly`, the operator named the config file: only it (and what it imports) is read.
 */
export async function containerdRootOfRuntime(
  runtime: RuntimeName,
  configFile: string,
  hostRoot: string,
  configOnly = false,
): Promise<RootFinding> {
  const tried: string[] = [];
  if (configOnly) {
    const config = await readMergedContainerdConfig(configFile, hostRoot);
    if (config.root !== undefined)
      return { found: true, root: config.root.value, how: `root in ${config.root.file}` };
    tried.push(`${configFile} ${config.mainExists ? 'sets no root' : 'does not exist'}`);
    return { found: false, tried };
  }
  const r = RANCHER[runtime];
  if (r !== undefined) return rancher(r, configFile, hostRoot, tried);
  const k0sUnit = K0S_UNITS[runtime];
  if (k0sUnit !== undefined) return k0s(k0sUnit, hostRoot, tried);
  if (runtime === 'microk8s') return microk8s(hostRoot, tried);
  return vanilla(configFile, hostRoot, tried);
}

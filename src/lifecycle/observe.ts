/**
 * Observe: everything install, cleanup and reset need to know about the node, read once through host/ before
 * anything is planned. The runtime flavour, containerd's version, the configuration files and their backups,
 * the install state, and (for install) the payload and what is installed already.
 */
import { dirname } from 'node:path';
import { KataDeployError, UsageError } from '../errors/index.js';
import { parseInstallState, requireHostRoot, type Host, type InstallState } from '../host/index.js';
import { deriveNames, type Names } from '../names/index.js';
import { distributionOf, type RuntimeName, type Settings } from '../settings/index.js';
import { parseContainerdVersion, type ContainerdVersion } from '../containerd/config/version.js';
import { readImportedConfigs } from '../containerd/config/imports.js';
import type { ArtifactFacts } from './artifacts/plan.js';
import { artifactFacts } from './artifacts/observe.js';
import { ContainerdClient } from '../containerd/api/index.js';
import type { Logger } from '../output/log.js';

export interface Observed {
  readonly runtime: RuntimeName;
  readonly names: Names;
  readonly containerdVersion: ContainerdVersion;
  /** Where the version came from, for the report. */
  readonly versionSource: string;
  /** A containerd binary this process can run (for `config dump`), if one was found. */
  readonly containerdBinary: string | undefined;
  readonly state: InstallState | undefined;
  /** The states of the other installs on this node (other MULTI_INSTALL_SUFFIX values) that could be read. */
  readonly siblingStates?: readonly InstallState[];
  /** Text of every configuration file involved, by node path; undefined = missing. */
  readonly files: ReadonlyMap<string, string | undefined>;
  /** Every file containerd's main config imports (node path → text), in containerd's merge order. */
  readonly importedConfigs: ReadonlyMap<string, string>;
  /** Permission bits of the files that exist. */
  readonly modes: ReadonlyMap<string, number>;
  readonly backups: ReadonlyMap<string, string | undefined>;
  /** Node paths (directories) known to exist, among the ancestors of everything kata-deploy may write. */
  readonly existingDirs: ReadonlySet<string>;
  readonly artifacts: ArtifactFacts | undefined;
  readonly machineId: string | undefined;
  /** What each active snapshotter hook's `observe` read, by snapshotter name. */
  readonly snapshotterFacts?: ReadonlyMap<string, unknown>;
}

export interface ObserveOptions {
  readonly settings: Settings;
  readonly host: Host;
  readonly log: Logger;
  /** Read the payload and the install dir (install only). */
  readonly withArtifacts: boolean;
  /** Extra node paths the snapshotter hooks want read. */
  readonly extraPaths?: (names: Names) => readonly string[];
}

const DETECT_UNITS: readonly [string, RuntimeName][] = [
  ['snap.microk8s.daemon-containerd.service', 'microk8s'],
  ['rke2-agent.service', 'rke2-agent'],
  ['rke2-server.service', 'rke2-server'],
  ['k3s-agent.service', 'k3s-agent'],
  ['k3s.service', 'k3s'],
  ['k0scontroller.service', 'k0s-controller'],
  ['k0sworker.service', 'k0s-worker'],
];

/**
 * Whether a distribution's unit runs. A service manager that cannot answer is an error, never "not active": a
 * k3s node whose systemd cannot be reached must not be taken for vanilla containerd (exit 2, nothing written).
 */
async function unitIsActive(host: Host, unit: string): Promise<boolean> {
  try {
    return await host.services.isActive(unit);
  } catch (error) {
    const cause = error instanceof Error ? error.message : String(error);
    throw new UsageError(
      `cannot tell which runtime this node runs: asking whether ${unit} is active failed: ${cause}`,
      {
        input: unit,
        hint:
          error instanceof KataDeployError && error.hint !== undefined
            ? `${error.hint}; or name the runtime with --runtime`
            : 'fix the service manager, or name the runtime with --runtime',
        cause: error,
      },
    );
  }
}

export async function detectRuntime(settings: Settings, host: Host): Promise<RuntimeName> {
  if (settings.runtime !== undefined) return settings.runtime;
  let runtime: RuntimeName = 'containerd';
  if (settings.k8sDistribution === 'microk8s') runtime = 'microk8s';
  else {
    for (const [unit, name] of DETECT_UNITS) {
      if (await unitIsActive(host, unit)) {
        runtime = name;
        break;
      }
    }
  }
  if (settings.k8sDistribution !== undefined && distributionOf(runtime) !== settings.k8sDistribution) {
    throw new UsageError(
      `K8S_DISTRIBUTION="${settings.k8sDistribution}" does not match the runtime found on this node (${runtime})`,
      {
        input: 'K8S_DISTRIBUTION',
        hint: `set K8S_DISTRIBUTION=${distributionOf(runtime)} or pass --runtime`,
      },
    );
  }
  return runtime;
}

export async function observe(options: ObserveOptions): Promise<Observed> {
  const { settings, host, log } = options;
  requireHostRoot(host.root);
  const runtime = await detectRuntime(settings, host);
  const names = deriveNames(settings, runtime);
  const c = names.containerd;
  const stateText = await host.readText(names.stateFile);
  const state = stateText === undefined ? undefined : parseInstallState(stateText, names.stateFile);
  const siblingStates = await readSiblingStates(host, names, log);

  const filePaths = new Set<string>([c.configFile, c.installDropIn, c.confDDropIn]);
  if (c.distroDropIns) filePaths.add(c.distroDropIns.v3).add(c.distroDropIns.v2);
  if (c.templates) filePaths.add(c.templates.v3).add(c.templates.v2);
  for (const path of Object.keys(state?.files ?? {})) filePaths.add(path);
  for (const path of options.extraPaths?.(names) ?? []) filePaths.add(path);
  const files = new Map<string, string | undefined>();
  const modes = new Map<string, number>();
  for (const path of filePaths) {
    files.set(path, await host.readText(path));
    const st = await host.lstat(path);
    if (st) modes.set(path, st.mode & 0o7777);
  }
  const importedConfigs = await readImportedConfigs(c.configFile, files.get(c.configFile), {
    read: (path) => host.readText(path),
    list: async (dir) =>
      (await host.walk(dir)).filter((e) => !e.rel.includes('/') && e.type !== 'dir').map((e) => e.rel),
  });
  const backupPaths = new Set([c.backupFile, c.createdMarker]);
  for (const r of Object.values(state?.files ?? {})) if (r.backupFile) backupPaths.add(r.backupFile);
  const backups = new Map<string, string | undefined>();
  for (const path of backupPaths) backups.set(path, await host.readText(path));

  const existingDirs = new Set<string>();
  for (const path of [...filePaths, names.installDir, names.stateFile]) {
    for (let dir = dirname(path); dir !== '/'; dir = dirname(dir)) {
      if (existingDirs.has(dir)) break;
      // A symlink to a directory (`/etc/containerd -> containerd-real`) is a directory that exists: followed.
      if ((await host.stat(dir))?.isDirectory()) existingDirs.add(dir);
    }
  }
  if ((await host.stat(names.installDir))?.isDirectory()) existingDirs.add(names.installDir);

  const binary = await findContainerd(settings, host, runtime);
  const version = await containerdVersionOf(settings, host, names, binary, log);
  return {
    runtime,
    names,
    containerdVersion: version.version,
    versionSource: version.source,
    containerdBinary: binary,
    state,
    siblingStates,
    files,
    importedConfigs,
    modes,
    backups,
    existingDirs,
    artifacts: options.withArtifacts ? await artifactFacts(settings, host, names) : undefined,
    machineId:
      settings.nodeMachineId === undefined ? undefined : (await host.readText(names.machineIdFile))?.trim(),
  };
}

/** Other installs' states beside ours: a corrupt one is skipped (it is that install's to report, not ours). */
async function readSiblingStates(host: Host, names: Names, log: Logger): Promise<InstallState[]> {
  const own = names.stateFile.slice(names.stateDir.length + 1);
  const out: InstallState[] = [];
  for (const entry of await host.walk(names.stateDir)) {
    if (entry.type !== 'file' || entry.rel === own || !/^install(-[a-z0-9-]+)?\.json$/.test(entry.rel))
      continue;
    const path = `${names.stateDir}/${entry.rel}`;
    try {
      out.push(parseInstallState((await host.readText(path)) ?? '', path));
    } catch (error) {
      log.debug(`another install's state ${path} is unreadable: ${String(error)}`);
    }
  }
  return out;
}

async function findContainerd(
  settings: Settings,
  host: Host,
  runtime: RuntimeName,
): Promise<string | undefined> {
  if (settings.containerdBinary !== undefined) return settings.containerdBinary;
  const candidates = ['/usr/local/bin/containerd', '/usr/bin/containerd'];
  if (runtime.startsWith('k3s')) candidates.unshift('/var/lib/rancher/k3s/data/current/bin/containerd');
  if (runtime.startsWith('rke2')) candidates.unshift('/var/lib/rancher/rke2/bin/containerd');
  for (const c of candidates) if ((await host.lstat(c))?.isFile()) return host.path(c);
  return undefined;
}

async function containerdVersionOf(
  settings: Settings,
  host: Host,
  names: Names,
  binary: string | undefined,
  log: Logger,
): Promise<{ version: ContainerdVersion; source: string }> {
  const declared = settings.containerRuntimeVersion;
  // The settings schema admits only containerd:// versions.
  if (declared !== undefined) return { version: { ...declared }, source: 'CONTAINER_RUNTIME_VERSION' };
  const socket = host.path(names.containerd.socket);
  if ((await host.lstat(names.containerd.socket))?.isSocket()) {
    const client = ContainerdClient.open({ socket, timeoutMs: 3000 });
    try {
      const parsed = parseContainerdVersion((await client.version()).version);
      if (parsed) return { version: parsed, source: `the running containerd (${names.containerd.socket})` };
    } catch (error) {
      log.debug(`containerd at ${socket} did not answer Version: ${String(error)}`);
    } finally {
      client.close();
    }
  }
  if (binary !== undefined) {
    const result = await host.exec(binary, ['--version'], { timeoutMs: 10_000 }).catch(() => undefined);
    const parsed = result === undefined ? undefined : parseContainerdVersion(result.stdout);
    if (parsed) return { version: parsed, source: `${binary} --version` };
  }
  throw new UsageError('cannot tell which containerd version this node runs', {
    input: '--containerd-socket',
    hint: 'start containerd, pass --containerd-bin, or set CONTAINER_RUNTIME_VERSION (e.g. containerd://2.1.5)',
  });
}

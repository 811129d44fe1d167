/**
 * Every name and node path kata-deploy uses, derived in this one place from the settings and the runtime
 * flavour. The suffix (`MULTI_INSTALL_SUFFIX`) and prefix (`INSTALLATION_PREFIX`) are applied here only, so
 * cleanup looks for exactly the names install produced. All paths are node paths (as containerd sees them);
 * `host/` maps them under `--host-root`.
 */
import { hypervisorOf, isRustShim, type RuntimeName, type Settings } from '../settings/index.js';

/** The install directory upstream's payload is built for; paths under it are re-prefixed elsewhere. */
export const DEFAULT_INSTALL_DIR = '/opt/kata';
export const NYDUS_BASE_NAME = 'nydus-for-kata-tee';
/** containerd's built-in erofs snapshotter: one per containerd, so never suffixed. */
export const EROFS_SNAPSHOTTER = 'erofs';
/** Shared by every kata-deploy on the node, whatever its suffix or runtime. */
export const NODE_LOCK_FILE = '/run/lock/kata-deploy.lock';
/** Where the process supervisor (hosts without systemd) finds its `<unit>.json` service specs. */
export const SERVICE_SPEC_DIR = '/etc/kata-deploy/services';

export type Variant = 'default' | 'debug';

export interface HandlerNames {
  readonly shim: string;
  readonly variant: Variant;
  /** containerd runtime handler and RuntimeClass handler: `kata-<shim>[-<sfx>][-debug]`. */
  readonly handler: string;
  /** `[hypervisor.<name>]` in the shim's configuration. */
  readonly hypervisor: string;
  readonly runtimeType: string;
  readonly runtimePath: string;
  /** Where the payload ships `configuration-<shim>.toml`; it becomes a symlink to `configFile` (default variant). */
  readonly baseConfigFile: string;
  /** The directory holding this handler's configuration and its `config.d/`. */
  readonly configDir: string;
  readonly configFile: string;
  readonly configDropInDir: string;
  /** Relative target of the symlink at `baseConfigFile`; only for the default variant. */
  readonly symlinkTarget: string | undefined;
  /** Snapshotter instance name from `SNAPSHOTTER_HANDLER_MAPPING` (`nydus` → `nydus-for-kata-tee[-sfx]`). */
  readonly snapshotter: string | undefined;
}

export interface ContainerdNames {
  readonly runtime: RuntimeName;
  /** The directory holding the runtime's containerd configuration. */
  readonly configDir: string;
  /** The main file: edited whole (containerd 1.x) or given an `imports` entry (2.x); k3s/rke2: the rendered one. */
  readonly configFile: string;
  /**
   * Copy of `configFile` as it was before kata-deploy first edited it (`.kata-deploy[-<sfx>].bak`: one per
   * install, so one never overwrites another's; an install that edits the file after another one keeps that
   * one's backup instead of taking its own).
   */
  readonly backupFile: string;
  /** Present while `configFile` exists only because kata-deploy created it. */
  readonly createdMarker: string;
  /** Drop-in inside the install dir, imported from `configFile` (containerd 2.x, microk8s 2.x). */
  readonly installDropIn: string;
  /** Drop-in for a `conf.d` directory the config already imports. */
  readonly confDDropIn: string;
  /** k3s/rke2: drop-ins for config v3 (`config-v3.toml.d`) and v2 (`config.toml.d`); k0s: `containerd.d`. */
  readonly distroDropIns: { readonly v3: string; readonly v2: string } | undefined;
  /** k3s/rke2 templates, read to tell the config version. */
  readonly templates: { readonly v3: string; readonly v2: string } | undefined;
  readonly socket: string;
  /** The unit to restart; undefined when the runtime reloads on its own (k0s). */
  readonly unit: string | undefined;
}

export interface NydusNames {
  /** The snapshotter instance: containerd's proxy plugin name, `nydus-for-kata-tee[-<sfx>]`. */
  readonly name: string;
  readonly unit: string;
  /** systemd unit file. */
  readonly unitFile: string;
  /** Process supervisor spec (hosts without systemd). */
  readonly serviceSpecFile: string;
  /** Where the process supervisor sends its output. */
  readonly logFile: string;
  readonly socket: string;
  readonly dataDir: string;
  /** `<install dir>/nydus-for-kata-tee`: binaries and configuration. */
  readonly installDir: string;
  readonly configFile: string;
  readonly grpcBinary: string;
  readonly overlayfsBinary: string;
}

/** The payload's directory with the snapshotter's binaries and templates, relative to `--artifacts-dir`. */
export const NYDUS_PAYLOAD_DIR = 'nydus-snapshotter';
/** File names inside NYDUS_PAYLOAD_DIR. */
export const NYDUS_PAYLOAD = {
  grpcBinary: 'containerd-nydus-grpc',
  overlayfsBinary: 'nydus-overlayfs',
  configTemplate: 'config-guest-pulling.toml.in',
  unitTemplate: 'nydus-snapshotter.service.in',
  serviceSpecTemplate: 'nydus-snapshotter.process.json.in',
} as const;

export interface Names {
  readonly suffix: string | undefined;
  /** `<prefix>/opt/kata[-<sfx>]`. */
  readonly installDir: string;
  readonly handlers: readonly HandlerNames[];
  readonly containerd: ContainerdNames;
  readonly nydus: NydusNames;
  /** Records what install wrote, so cleanup can restore it byte for byte. */
  readonly stateDir: string;
  readonly stateFile: string;
  /** Serialises every host-mutating run on the node (all installs share it). */
  readonly lockFile: string;
  /** Process supervisor: service specs and pid files. */
  readonly serviceSpecDir: string;
  readonly kubeletUnit: string;
  readonly machineIdFile: string;
}

function withSuffix(base: string, suffix: string | undefined): string {
  return suffix === undefined ? base : `${base}-${suffix}`;
}

/**
 * The data dir of a snapshotter instance kata-deploy sets up (`nydus-for-kata-tee[-<sfx>]`); undefined for
 * snapshotters it does not manage. Used to tell an operator where to look when a snapshotter is down.
 */
export function kataDeployDataDir(snapshotter: string): string | undefined {
  return snapshotter === NYDUS_BASE_NAME || snapshotter.startsWith(`${NYDUS_BASE_NAME}-`)
    ? `/var/lib/${snapshotter}`
    : undefined;
}

/** The snapshotter instance a mapping value names. */
function snapshotterInstance(snapshotter: string, suffix: string | undefined): string {
  return snapshotter === 'nydus' ? withSuffix(NYDUS_BASE_NAME, suffix) : snapshotter;
}

export function deriveNames(settings: Settings, runtime: RuntimeName): Names {
  const suffix = settings.multiInstallSuffix;
  const installDir = withSuffix(`${settings.installationPrefix ?? ''}${DEFAULT_INSTALL_DIR}`, suffix);
  const variants: Variant[] = settings.debug ? ['default', 'debug'] : ['default'];
  const handlers = settings.shims.flatMap((shim) =>
    variants.map((v) => handlerNames(settings, installDir, shim, v)),
  );
  const nydusName = withSuffix(NYDUS_BASE_NAME, suffix);
  const nydusDir = `${installDir}/${NYDUS_BASE_NAME}`;
  return Object.freeze({
    suffix,
    installDir,
    handlers: Object.freeze(handlers),
    containerd: containerdNames(settings, runtime, installDir),
    nydus: {
      name: nydusName,
      unit: `${nydusName}.service`,
      unitFile: `/etc/systemd/system/${nydusName}.service`,
      serviceSpecFile: `${SERVICE_SPEC_DIR}/${nydusName}.service.json`,
      logFile: `/var/log/${nydusName}.log`,
      socket: `/run/${nydusName}/containerd-nydus-grpc.sock`,
      dataDir: kataDeployDataDir(nydusName)!,
      installDir: nydusDir,
      configFile: `${nydusDir}/config-guest-pulling.toml`,
      grpcBinary: `${nydusDir}/${NYDUS_PAYLOAD.grpcBinary}`,
      overlayfsBinary: `${nydusDir}/${NYDUS_PAYLOAD.overlayfsBinary}`,
    },
    stateDir: '/var/lib/kata-deploy',
    stateFile: `/var/lib/kata-deploy/${withSuffix('install', suffix)}.json`,
    lockFile: NODE_LOCK_FILE,
    serviceSpecDir: SERVICE_SPEC_DIR,
    kubeletUnit: 'kubelet.service',
    machineIdFile: '/etc/machine-id',
  });
}

function handlerNames(settings: Settings, installDir: string, shim: string, variant: Variant): HandlerNames {
  const handler = `${withSuffix(`kata-${shim}`, settings.multiInstallSuffix)}${variant === 'debug' ? '-debug' : ''}`;
  const defaults = `${installDir}/share/defaults/kata-containers`;
  const baseDir = isRustShim(shim) ? `${defaults}/runtime-rs` : defaults;
  const fileName = `configuration-${shim}.toml`;
  const configDir =
    variant === 'default' ? `${baseDir}/runtimes/${shim}` : `${defaults}/custom-runtimes/${handler}`;
  const mapped = settings.snapshotterMapping.get(shim);
  return {
    shim,
    variant,
    handler,
    hypervisor: hypervisorOf(shim),
    runtimeType: `io.containerd.${handler}.v2`,
    runtimePath: isRustShim(shim)
      ? `${installDir}/runtime-rs/bin/containerd-shim-kata-v2`
      : `${installDir}/bin/containerd-shim-kata-v2`,
    baseConfigFile: `${baseDir}/${fileName}`,
    configDir,
    configFile: `${configDir}/${fileName}`,
    configDropInDir: `${configDir}/config.d`,
    symlinkTarget: variant === 'default' ? `runtimes/${shim}/${fileName}` : undefined,
    snapshotter: mapped === undefined ? undefined : snapshotterInstance(mapped, settings.multiInstallSuffix),
  };
}

const RANCHER: Partial<Record<RuntimeName, string>> = {
  k3s: '/var/lib/rancher/k3s/agent/etc/containerd',
  'k3s-agent': '/var/lib/rancher/k3s/agent/etc/containerd',
  'rke2-server': '/var/lib/rancher/rke2/agent/etc/containerd',
  'rke2-agent': '/var/lib/rancher/rke2/agent/etc/containerd',
};

const UNITS: Record<RuntimeName, string | undefined> = {
  containerd: 'containerd.service',
  k3s: 'k3s.service',
  'k3s-agent': 'k3s-agent.service',
  'rke2-server': 'rke2-server.service',
  'rke2-agent': 'rke2-agent.service',
  'k0s-worker': undefined,
  'k0s-controller': undefined,
  microk8s: 'snap.microk8s.daemon-containerd.service',
};

function containerdNames(settings: Settings, runtime: RuntimeName, installDir: string): ContainerdNames {
  const dropInName = `${withSuffix('kata-deploy', settings.multiInstallSuffix)}.toml`;
  const rancher = RANCHER[runtime];
  const k0s = runtime === 'k0s-worker' || runtime === 'k0s-controller';
  const configDir =
    rancher ??
    (k0s ? '/etc/k0s' : runtime === 'microk8s' ? '/var/snap/microk8s/current/args' : '/etc/containerd');
  // k0s generates /etc/k0s/containerd.toml, which imports /etc/k0s/containerd.d/*.toml.
  const fileName =
    runtime === 'microk8s'
      ? 'containerd-template.toml'
      : k0s
        ? 'containerd.toml'
        : rancher
          ? 'config.toml'
          : settings.containerdConfigFileName;
  const configFile = `${configDir}/${fileName}`;
  const defaultSocket = rancher
    ? '/run/k3s/containerd/containerd.sock'
    : k0s
      ? '/run/k0s/containerd.sock'
      : runtime === 'microk8s'
        ? '/var/snap/microk8s/common/run/containerd.sock'
        : '/run/containerd/containerd.sock';
  return {
    runtime,
    configDir,
    configFile,
    backupFile: `${configFile}.${withSuffix('kata-deploy', settings.multiInstallSuffix)}.bak`,
    createdMarker: `${configFile}.kata-deploy-created`,
    installDropIn: `${installDir}/containerd/config.d/kata-deploy.toml`,
    confDDropIn: `${configDir}/conf.d/${dropInName}`,
    distroDropIns: rancher
      ? { v3: `${rancher}/config-v3.toml.d/${dropInName}`, v2: `${rancher}/config.toml.d/${dropInName}` }
      : k0s
        ? { v3: `/etc/k0s/containerd.d/${dropInName}`, v2: `/etc/k0s/containerd.d/${dropInName}` }
        : undefined,
    templates: rancher
      ? { v3: `${rancher}/config-v3.toml.tmpl`, v2: `${rancher}/config.toml.tmpl` }
      : undefined,
    socket: settings.containerdSocket ?? defaultSocket,
    unit: UNITS[runtime],
  };
}

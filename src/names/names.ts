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

/**
 * `default`: a shim's own handler; `debug` and `devkit`: the variants DEBUG (and DEVKIT with it) add per shim;
 * `custom`: an operator's handler from `custom-runtimes.list`, based on a shim's configuration.
 */
export type Variant = 'default' | 'debug' | 'devkit' | 'custom';

export interface HandlerNames {
  /** The shim whose shipped configuration and runtime binary the handler uses (a custom runtime's baseConfig). */
  readonly shim: string;
  readonly variant: Variant;
  /** containerd runtime handler and RuntimeClass handler: `kata-<shim>[-<sfx>][-debug|-devkit]`, or the custom one. */
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
  /**
   * File name of the operator's drop-in (`CONTAINERD_USER_DROP_IN_SOURCE_FILE`), written beside kata-deploy's own
   * drop-in and loaded after it: `zz-kata-deploy-user[-<sfx>].toml`.
   */
  readonly userDropInName: string;
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

/** The devkit extension (`DEVKIT` with `DEBUG`): its image and its dm-verity root hash, in the install dir. */
export interface DevkitNames {
  readonly image: string;
  readonly rootHash: string;
}

export interface Names {
  readonly suffix: string | undefined;
  /** `<prefix>/opt/kata[-<sfx>]`. */
  readonly installDir: string;
  readonly handlers: readonly HandlerNames[];
  readonly devkit: DevkitNames;
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

/**
 * The handler of a shim or of one of its variants: `kata-<shim>[-<sfx>][-debug|-devkit]`. In one place because
 * the cleanup of a variant a redeploy no longer wants, and the refusal of a custom handler that would shadow
 * one, must look for exactly the names install derives.
 */
export function handlerName(
  shim: string,
  suffix: string | undefined,
  variant: Exclude<Variant, 'custom'>,
): string {
  return `${withSuffix(`kata-${shim}`, suffix)}${variant === 'default' ? '' : `-${variant}`}`;
}

export function deriveNames(settings: Settings, runtime: RuntimeName): Names {
  const suffix = settings.multiInstallSuffix;
  const installDir = withSuffix(`${settings.installationPrefix ?? ''}${DEFAULT_INSTALL_DIR}`, suffix);
  const variants: Variant[] = [
    'default',
    ...(settings.debug ? (['debug'] as const) : []),
    ...(settings.devkit ? (['devkit'] as const) : []),
  ];
  const handlers = [
    ...settings.shims.flatMap((shim) =>
      variants.map((v) => handlerNames(settings, installDir, shim, v, undefined)),
    ),
    ...settings.customRuntimes.map((r) =>
      handlerNames(settings, installDir, r.baseConfig, 'custom', {
        handler: r.handler,
        snapshotter: r.snapshotter,
      }),
    ),
  ];
  const nydusName = withSuffix(NYDUS_BASE_NAME, suffix);
  const nydusDir = `${installDir}/${NYDUS_BASE_NAME}`;
  return Object.freeze({
    suffix,
    installDir,
    handlers: Object.freeze(handlers),
    devkit: {
      image: `${installDir}/share/kata-containers/kata-containers-devkit-extension.img`,
      rootHash: `${installDir}/share/kata-containers/root_hash_devkit-extension.txt`,
    },
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

function handlerNames(
  settings: Settings,
  installDir: string,
  shim: string,
  variant: Variant,
  custom: { readonly handler: string; readonly snapshotter: string | undefined } | undefined,
): HandlerNames {
  const handler = custom?.handler ?? handlerName(shim, settings.multiInstallSuffix, variant as 'default');
  const defaults = `${installDir}/share/defaults/kata-containers`;
  const baseDir = isRustShim(shim) ? `${defaults}/runtime-rs` : defaults;
  const fileName = `configuration-${shim}.toml`;
  const configDir =
    variant === 'default' ? `${baseDir}/runtimes/${shim}` : `${defaults}/custom-runtimes/${handler}`;
  // Variants pull the way their shim does (they share its configuration); a custom runtime says its own.
  const mapped = custom === undefined ? settings.snapshotterMapping.get(shim) : custom.snapshotter;
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
    userDropInName: `zz-${withSuffix('kata-deploy-user', settings.multiInstallSuffix)}.toml`,
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

/** The validated, frozen configuration every other module reads. Built only by `loadSettings`. */

export const RUNTIMES = [
  'containerd',
  'k3s',
  'k3s-agent',
  'rke2-server',
  'rke2-agent',
  'k0s-worker',
  'k0s-controller',
  'microk8s',
] as const;
/** The container runtime flavour on the node, named as upstream names it. */
export type RuntimeName = (typeof RUNTIMES)[number];

export const DISTRIBUTIONS = ['k8s', 'k3s', 'rke2', 'k0s', 'microk8s'] as const;
export type Distribution = (typeof DISTRIBUTIONS)[number];

export const SERVICE_MANAGERS = ['systemd', 'process'] as const;
export type ServiceManagerKind = (typeof SERVICE_MANAGERS)[number];

export const SNAPSHOTTERS = ['nydus', 'erofs'] as const;
export type SetupSnapshotter = (typeof SNAPSHOTTERS)[number];

/**
 * What install (upgrade) and cleanup do with a snapshotter's data dir: `clean-if-safe` removes containerd's
 * records first and wipes the dir only when none is left; `preserve` never wipes it (upstream's behaviour).
 */
export const SNAPSHOTTER_DATA_POLICIES = ['clean-if-safe', 'preserve'] as const;
export type SnapshotterDataPolicy = (typeof SNAPSHOTTER_DATA_POLICIES)[number];

/** `EROFS_SNAPSHOTTER_MODE`: the writable layer of an erofs container on disk (`default_size = "10G"`) or not. */
export const EROFS_SNAPSHOTTER_MODES = ['disk', 'memory'] as const;
export type ErofsSnapshotterMode = (typeof EROFS_SNAPSHOTTER_MODES)[number];

/** `EROFS_MERGE_MODE`: image layers merged into one erofs view (runtime-rs only) or kept one per layer. */
export const EROFS_MERGE_MODES = ['merged', 'unmerged'] as const;
export type ErofsMergeMode = (typeof EROFS_MERGE_MODES)[number];

/** `EROFS_FSVERITY` (kata-deploy's own): containerd's `enable_fsverity` for the erofs snapshotter. */
export const EROFS_FSVERITY_VALUES = ['on', 'off'] as const;

/** How the erofs snapshotter is set up (`EXPERIMENTAL_SETUP_SNAPSHOTTER=erofs`); read whether or not it is. */
export interface ErofsSettings {
  /** `EROFS_SNAPSHOTTER_MODE`, default `disk`. */
  readonly mode: ErofsSnapshotterMode;
  /** `EROFS_MERGE_MODE`, default `merged`. */
  readonly merge: ErofsMergeMode;
  /** `EROFS_DMVERITY=dmverity`: dm-verity for the erofs layers. */
  readonly dmverity: boolean;
  /** `EROFS_FSVERITY`, default `on` (upstream always enables fs-verity). */
  readonly fsverity: boolean;
}

/** `--restart-timeout`: its default and its least value, in milliseconds. */
export const RESTART_TIMEOUT_DEFAULT_MS = 60_000;
export const RESTART_TIMEOUT_MIN_MS = 1000;

/** A proxy setting: one value for every shim, or one per named shim (`shim=value;shim2=value`). */
export type ProxySetting =
  | { readonly kind: 'global'; readonly value: string }
  | { readonly kind: 'perShim'; readonly values: ReadonlyMap<string, string> };

/** `CONTAINER_RUNTIME_VERSION` split into its parts (`containerd://2.1.5-k3s1`). */
export interface RuntimeVersion {
  readonly runtime: string;
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly raw: string;
}

/** A file the operator provides (a ConfigMap's file in a pod), read when a run starts: where from, and its text. */
export interface OperatorFile {
  /** Path as this process sees it. */
  readonly source: string;
  readonly content: string;
}

/**
 * One line of `custom-runtimes.list` (`handler:baseConfig:snapshotter:crioPullType`, upstream's format): a
 * runtime handler of the operator's, configured from a copy of `baseConfig`'s shipped configuration.
 */
export interface CustomRuntime {
  readonly handler: string;
  /** The shim whose shipped configuration (and runtime binary) the handler uses. */
  readonly baseConfig: string;
  /** containerd snapshotter for the handler, as written (`nydus` becomes its instance name). */
  readonly snapshotter: string | undefined;
  /** CRI-O's pull type; validated and kept (this build configures containerd only). */
  readonly crioPullType: string | undefined;
  /** `dropin-<handler>.toml`, applied as the handler's `config.d/50-overrides.toml`. */
  readonly dropIn: OperatorFile | undefined;
}

/** Upstream's mount of the custom-runtimes ConfigMap; `--custom-configs-dir` / `CUSTOM_CONFIGS_DIR` move it. */
export const DEFAULT_CUSTOM_CONFIGS_DIR = '/custom-configs';

export interface Settings {
  /** `NODE_NAME`: the node this run acts on. */
  readonly nodeName: string;
  /** The node's architecture as upstream names it (`x86_64`, `aarch64`, `s390x`, `ppc64le`). */
  readonly arch: string;
  /** `DEBUG`: containerd debug logging plus a `-debug` variant handler per shim. */
  readonly debug: boolean;
  /** `DEVKIT` together with `DEBUG` (upstream honours it only then): a `-devkit` variant handler per shim. */
  readonly devkit: boolean;
  /** `CUSTOM_RUNTIMES_ENABLED`: read `custom-runtimes.list` from `customConfigsDir`. */
  readonly customRuntimesEnabled: boolean;
  /** `--custom-configs-dir`, else `CUSTOM_CONFIGS_DIR`, else `/custom-configs` (upstream's mount), as seen here. */
  readonly customConfigsDir: string;
  /** `CONTAINERD_USER_DROP_IN_SOURCE_FILE`: the operator's containerd drop-in, as seen here. */
  readonly containerdUserDropInSource: string | undefined;
  /** `K3S_RKE2_TEMPLATE_IMPORT` (kata-deploy's own): write the k3s/rke2 template that imports the drop-in dir. */
  readonly k3sTemplateImport: boolean;
  /** The custom runtimes of `custom-runtimes.list`; empty until `readOperatorFiles` read them. */
  readonly customRuntimes: readonly CustomRuntime[];
  /** `dropin-<shim>.toml` per shim that has one, applied as the shim's `config.d/50-user-overrides.toml`. */
  readonly shimDropIns: ReadonlyMap<string, OperatorFile>;
  /** The file `CONTAINERD_USER_DROP_IN_SOURCE_FILE` names; undefined until read, or when unset. */
  readonly containerdUserDropIn: OperatorFile | undefined;
  /** `SHIMS_<ARCH>`, in the order given, without duplicates. */
  readonly shims: readonly string[];
  /** `DEFAULT_SHIM_<ARCH>`; always one of `shims`. */
  readonly defaultShim: string;
  /** `SNAPSHOTTER_HANDLER_MAPPING_<ARCH>`: shim → snapshotter as written (`nydus`, not its instance name). */
  readonly snapshotterMapping: ReadonlyMap<string, string>;
  /** `PULL_TYPE_MAPPING_<ARCH>`: shim → pull type. */
  readonly pullTypeMapping: ReadonlyMap<string, string>;
  /** `EXPERIMENTAL_FORCE_GUEST_PULL_<ARCH>`. */
  readonly forceGuestPull: readonly string[];
  /** `ALLOWED_HYPERVISOR_ANNOTATIONS_<ARCH>` resolved per shim (global entries included), sorted. */
  readonly hypervisorAnnotations: ReadonlyMap<string, readonly string[]>;
  /** `AGENT_HTTPS_PROXY`. */
  readonly agentHttpsProxy: ProxySetting | undefined;
  /** `AGENT_NO_PROXY`. */
  readonly agentNoProxy: ProxySetting | undefined;
  /** `EXPERIMENTAL_SETUP_SNAPSHOTTER`. */
  readonly setupSnapshotters: readonly SetupSnapshotter[];
  /** `EROFS_SNAPSHOTTER_MODE`, `EROFS_MERGE_MODE`, `EROFS_DMVERITY`, `EROFS_FSVERITY`. */
  readonly erofs: ErofsSettings;
  /** `--snapshotter-data-policy`, else `SNAPSHOTTER_DATA_POLICY`; default `clean-if-safe`. */
  readonly snapshotterDataPolicy: SnapshotterDataPolicy;
  /** `MULTI_INSTALL_SUFFIX`; undefined when unset or empty. */
  readonly multiInstallSuffix: string | undefined;
  /** `INSTALLATION_PREFIX`, without a trailing slash; undefined when unset or empty. */
  readonly installationPrefix: string | undefined;
  /** `CONTAINERD_CONFIG_FILE_NAME`: a bare file name under the containerd config directory. */
  readonly containerdConfigFileName: string;
  /** `K8S_DISTRIBUTION`: the declared flavour, cross-checked against the runtime. */
  readonly k8sDistribution: Distribution | undefined;
  /** `CONTAINER_RUNTIME_VERSION`, when the launcher passed it. */
  readonly containerRuntimeVersion: RuntimeVersion | undefined;
  /** `NODE_MACHINE_ID`: refuse to touch a host whose /etc/machine-id differs. */
  readonly nodeMachineId: string | undefined;
  /** `HELM_POST_DELETE_HOOK`: `cleanup` does nothing (legacy). */
  readonly helmPostDeleteHook: boolean;

  /** `--host-root`: where the node's file system is seen from this process (`/` on a node, `/host` in a pod). */
  readonly hostRoot: string;
  /** `--artifacts-dir`: the payload, holding an `opt/kata/` tree. */
  readonly artifactsDir: string;
  /** `--containerd-socket`: node path of containerd's socket; undefined means the runtime's default. */
  readonly containerdSocket: string | undefined;
  /** `--containerd-bin`: containerd binary used for `--version` and `config dump`; undefined = look on the host. */
  readonly containerdBinary: string | undefined;
  /** `--runtime`: the runtime flavour; undefined means detect it. */
  readonly runtime: RuntimeName | undefined;
  /** `--service-manager`. */
  readonly serviceManager: ServiceManagerKind;
  /** `--dry-run`: print the plan, change nothing. */
  readonly dryRun: boolean;
  /** `--restart-timeout`: how long containerd may take to answer after a restart, in ms. */
  readonly restartTimeoutMs: number;
  /** Test hook `KATA_DEPLOY_TEST_CRASH_AFTER_STEP`: kill the process after applying step N (1-based). */
  readonly crashAfterStep: number | undefined;
}

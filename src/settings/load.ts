/**
 * Builds the one frozen `Settings` from an environment record, the command-line flags and the architecture.
 * The environment is an argument: nothing here reads `process.env`. Every invalid value fails with a
 * `UsageError` that names the variable (or flag), the value and what is accepted, before anything is written.
 */
import type { z } from 'zod';
import { quoteValue, UsageError } from '../errors/index.js';
import { buildSchema, ENV_KEYS, PER_ARCH_KEYS, variableName, type RawKey } from './schema.js';
import { defaultShimFor } from './shims.js';
import {
  DEFAULT_CUSTOM_CONFIGS_DIR,
  type ErofsMergeMode,
  type ErofsSnapshotterMode,
  type RuntimeName,
  type ServiceManagerKind,
  type Settings,
  type SnapshotterDataPolicy,
} from './types.js';

export interface SettingsFlags {
  readonly hostRoot?: string;
  readonly artifactsDir?: string;
  readonly containerdSocket?: string;
  readonly containerdBin?: string;
  readonly runtime?: string;
  readonly serviceManager?: string;
  readonly restartTimeout?: string;
  readonly snapshotterDataPolicy?: string;
  readonly customConfigsDir?: string;
  readonly dryRun?: boolean;
}

export interface SettingsInput {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly flags?: SettingsFlags;
  /** Upstream's architecture name (`x86_64`, …); see `archFromNode`. */
  readonly arch: string;
}

/** Node's `process.arch` → the name kata-deploy's variables use. */
export function archFromNode(nodeArch: string): string {
  const table: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', s390x: 's390x', ppc64: 'ppc64le' };
  return table[nodeArch] ?? nodeArch;
}

export function loadSettings(input: SettingsInput): Settings {
  const { env, arch } = input;
  const flags = input.flags ?? {};
  const raw: Partial<Record<RawKey, string>> = {};
  for (const key of ENV_KEYS) {
    const name = (PER_ARCH_KEYS as readonly string[]).includes(key) ? variableName(key, arch) : key;
    const value = env[name];
    if (value !== undefined) raw[key] = value;
  }
  const flagValues: [RawKey, string | undefined][] = [
    ['--host-root', flags.hostRoot],
    ['--artifacts-dir', flags.artifactsDir],
    ['--containerd-socket', flags.containerdSocket],
    ['--containerd-bin', flags.containerdBin],
    ['--runtime', flags.runtime],
    ['--service-manager', flags.serviceManager],
    ['--restart-timeout', flags.restartTimeout],
    ['--snapshotter-data-policy', flags.snapshotterDataPolicy],
    ['--custom-configs-dir', flags.customConfigsDir],
  ];
  for (const [key, value] of flagValues) if (value !== undefined) raw[key] = value;

  const result = buildSchema(arch).safeParse(raw);
  if (!result.success) throw toUsageError(result.error.issues, raw, arch);
  const v = result.data;
  const shims = v.SHIMS;
  const annotations = new Map<string, readonly string[]>();
  for (const shim of shims) {
    const names = [
      ...v.ALLOWED_HYPERVISOR_ANNOTATIONS.global,
      ...(v.ALLOWED_HYPERVISOR_ANNOTATIONS.perShim.get(shim) ?? []),
    ];
    if (names.length > 0) annotations.set(shim, Object.freeze([...new Set(names)].sort()));
  }
  const defaultShim =
    v.DEFAULT_SHIM ?? (shims.includes(defaultShimFor(arch)) ? defaultShimFor(arch) : shims[0]!);
  const settings: Settings = {
    nodeName: v.NODE_NAME,
    arch,
    debug: v.DEBUG,
    devkit: v.DEVKIT && v.DEBUG,
    customRuntimesEnabled: v.CUSTOM_RUNTIMES_ENABLED,
    customConfigsDir: v['--custom-configs-dir'] ?? v.CUSTOM_CONFIGS_DIR ?? DEFAULT_CUSTOM_CONFIGS_DIR,
    containerdUserDropInSource: v.CONTAINERD_USER_DROP_IN_SOURCE_FILE,
    k3sTemplateImport: v.K3S_RKE2_TEMPLATE_IMPORT,
    customRuntimes: Object.freeze([]),
    shimDropIns: new Map(),
    containerdUserDropIn: undefined,
    shims: Object.freeze([...shims]),
    defaultShim,
    snapshotterMapping: v.SNAPSHOTTER_HANDLER_MAPPING,
    pullTypeMapping: v.PULL_TYPE_MAPPING,
    forceGuestPull: Object.freeze([...v.EXPERIMENTAL_FORCE_GUEST_PULL]),
    hypervisorAnnotations: annotations,
    agentHttpsProxy: v.AGENT_HTTPS_PROXY,
    agentNoProxy: v.AGENT_NO_PROXY,
    setupSnapshotters: Object.freeze([...v.EXPERIMENTAL_SETUP_SNAPSHOTTER]),
    erofs: Object.freeze({
      mode: v.EROFS_SNAPSHOTTER_MODE as ErofsSnapshotterMode,
      merge: v.EROFS_MERGE_MODE as ErofsMergeMode,
      dmverity: v.EROFS_DMVERITY,
      fsverity: v.EROFS_FSVERITY === 'on',
    }),
    snapshotterDataPolicy: (v['--snapshotter-data-policy'] ??
      v.SNAPSHOTTER_DATA_POLICY ??
      'clean-if-safe') as SnapshotterDataPolicy,
    multiInstallSuffix: v.MULTI_INSTALL_SUFFIX,
    installationPrefix: v.INSTALLATION_PREFIX,
    containerdConfigFileName: v.CONTAINERD_CONFIG_FILE_NAME,
    k8sDistribution: v.K8S_DISTRIBUTION,
    containerRuntimeVersion: v.CONTAINER_RUNTIME_VERSION,
    nodeMachineId: v.NODE_MACHINE_ID,
    helmPostDeleteHook: v.HELM_POST_DELETE_HOOK,
    hostRoot: v['--host-root'],
    artifactsDir: v['--artifacts-dir'],
    containerdSocket: v['--containerd-socket'],
    containerdBinary: v['--containerd-bin'],
    runtime: v['--runtime'] as RuntimeName | undefined,
    serviceManager: v['--service-manager'] as ServiceManagerKind,
    dryRun: flags.dryRun === true,
    restartTimeoutMs: v['--restart-timeout'],
    crashAfterStep: v.KATA_DEPLOY_TEST_CRASH_AFTER_STEP,
  };
  return Object.freeze(settings);
}

export function toUsageError(
  issues: readonly z.core.$ZodIssue[],
  raw: Partial<Record<string, string>>,
  arch: string,
): UsageError {
  const described = issues.map((issue) => {
    const key = String(issue.path[0] ?? '');
    const name = variableName(key, arch);
    const value = raw[key];
    const shown = value === undefined ? 'unset' : quoteValue(value);
    return { name, text: `${name}=${shown} is not valid: expected ${issue.message}` };
  });
  const first = described[0]!;
  const rest =
    described.length > 1
      ? `; also ${described
          .slice(1)
          .map((d) => d.text)
          .join('; ')}`
      : '';
  return new UsageError(`${first.text}${rest}`, {
    input: first.name,
    hint: 'fix the value; nothing was changed on the node',
  });
}

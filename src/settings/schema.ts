/**
 * The one schema for kata-deploy's settings: environment variables (upstream's names and meaning) and flags,
 * parsed field by field, then checked against each other. Keys are canonical names; `variableName` turns a
 * key into what the operator wrote (`SHIMS` → `SHIMS_X86_64`).
 */
import { z } from 'zod';
import { quoteValue } from '../errors/echo.js';
import {
  bad,
  isSnapshotterName,
  ok,
  parseAbsolutePath,
  parseAnnotations,
  parseBool,
  parseDuration,
  parseCommaShims,
  parseConfigFileName,
  parseInstallationPrefix,
  parseProxy,
  parseRuntimeVersion,
  parseShimList,
  parseShimMapping,
  parseSuffix,
  type Parsed,
} from './parse.js';
import { parseHostRoot } from '../host/paths.js';
import { defaultShimFor, defaultShimsFor, isKnownShim, isRustShim } from './shims.js';
import {
  DISTRIBUTIONS,
  EROFS_FSVERITY_VALUES,
  EROFS_MERGE_MODES,
  EROFS_SNAPSHOTTER_MODES,
  RESTART_TIMEOUT_DEFAULT_MS,
  RESTART_TIMEOUT_MIN_MS,
  RUNTIMES,
  SERVICE_MANAGERS,
  SNAPSHOTTER_DATA_POLICIES,
  SNAPSHOTTERS,
  type ProxySetting,
} from './types.js';

/** Variables read only with an architecture suffix, as upstream does. */
export const PER_ARCH_KEYS = [
  'SHIMS',
  'DEFAULT_SHIM',
  'SNAPSHOTTER_HANDLER_MAPPING',
  'PULL_TYPE_MAPPING',
  'EXPERIMENTAL_FORCE_GUEST_PULL',
  'ALLOWED_HYPERVISOR_ANNOTATIONS',
] as const;

export const ENV_KEYS = [
  'NODE_NAME',
  'DEBUG',
  'DEVKIT',
  ...PER_ARCH_KEYS,
  'AGENT_HTTPS_PROXY',
  'AGENT_NO_PROXY',
  'EXPERIMENTAL_SETUP_SNAPSHOTTER',
  'SNAPSHOTTER_DATA_POLICY',
  'EROFS_SNAPSHOTTER_MODE',
  'EROFS_MERGE_MODE',
  'EROFS_DMVERITY',
  'EROFS_FSVERITY',
  'MULTI_INSTALL_SUFFIX',
  'INSTALLATION_PREFIX',
  'CONTAINERD_CONFIG_FILE_NAME',
  'CONTAINERD_USER_DROP_IN_SOURCE_FILE',
  'CUSTOM_RUNTIMES_ENABLED',
  'CUSTOM_CONFIGS_DIR',
  'K3S_RKE2_TEMPLATE_IMPORT',
  'K8S_DISTRIBUTION',
  'CONTAINER_RUNTIME_VERSION',
  'NODE_MACHINE_ID',
  'HELM_POST_DELETE_HOOK',
  'KATA_DEPLOY_TEST_CRASH_AFTER_STEP',
] as const;

export const FLAG_KEYS = [
  '--host-root',
  '--artifacts-dir',
  '--containerd-socket',
  '--containerd-bin',
  '--runtime',
  '--service-manager',
  '--restart-timeout',
  '--snapshotter-data-policy',
  '--custom-configs-dir',
] as const;

export type RawKey = (typeof ENV_KEYS)[number] | (typeof FLAG_KEYS)[number];

export function variableName(key: string, arch: string): string {
  return (PER_ARCH_KEYS as readonly string[]).includes(key) ? `${key}_${arch.toUpperCase()}` : key;
}

/** A field: raw string (absent = empty) → parsed value, or an issue carrying what is accepted. */
export function field<T>(parse: (raw: string) => Parsed<T>) {
  return z
    .string()
    .optional()
    .transform((raw, ctx): T => {
      const result = parse(raw ?? '');
      if (!result.ok) {
        ctx.addIssue({ code: 'custom', message: result.accepted });
        return z.NEVER;
      }
      return result.value;
    });
}

function oneOf<T extends string>(values: readonly T[], fallback: T | undefined, extra = '') {
  return field((raw): Parsed<T | undefined> => {
    const v = raw.trim();
    if (v === '') return ok(fallback);
    return (values as readonly string[]).includes(v)
      ? ok(v as T)
      : bad(`one of ${values.join(', ')}${extra}`);
  });
}

export function buildSchema(arch: string) {
  const shimList = defaultShimsFor(arch).join(' ');
  return z
    .object({
      NODE_NAME: field((raw) =>
        raw.trim() === '' || raw.trim().length > 253 || /[\s"'\\\p{Cc}]/u.test(raw.trim())
          ? bad(
              'the name of this node (required, at most 253 characters, no whitespace, quotes or control characters)',
            )
          : ok(raw.trim()),
      ),
      DEBUG: field((raw) => parseBool(raw, false)),
      DEVKIT: field((raw) => parseBool(raw, false)),
      SHIMS: field((raw) => parseShimList(raw.trim() === '' ? shimList : raw, isKnownShim)),
      DEFAULT_SHIM: field((raw) => ok(raw.trim() === '' ? undefined : raw.trim())),
      SNAPSHOTTER_HANDLER_MAPPING: field((raw) => parseShimMapping(raw, 'snapshotter', isSnapshotterName)),
      PULL_TYPE_MAPPING: field((raw) => parseShimMapping(raw, 'guest-pull', (v) => v === 'guest-pull')),
      EXPERIMENTAL_FORCE_GUEST_PULL: field(parseCommaShims),
      ALLOWED_HYPERVISOR_ANNOTATIONS: field(parseAnnotations),
      AGENT_HTTPS_PROXY: field(parseProxy),
      AGENT_NO_PROXY: field(parseProxy),
      EXPERIMENTAL_SETUP_SNAPSHOTTER: field((raw) => {
        const names = raw
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');
        const unknown = names.find((n) => !(SNAPSHOTTERS as readonly string[]).includes(n));
        return unknown === undefined
          ? ok([...new Set(names)] as (typeof SNAPSHOTTERS)[number][])
          : bad(`a comma-separated subset of ${SNAPSHOTTERS.join(', ')}; ${quoteValue(unknown)} is not one`);
      }),
      SNAPSHOTTER_DATA_POLICY: oneOf(SNAPSHOTTER_DATA_POLICIES, undefined),
      EROFS_SNAPSHOTTER_MODE: oneOf(EROFS_SNAPSHOTTER_MODES, 'disk'),
      EROFS_MERGE_MODE: oneOf(EROFS_MERGE_MODES, 'merged'),
      EROFS_DMVERITY: field((raw) =>
        raw.trim() === '' ? ok(false) : raw.trim() === 'dmverity' ? ok(true) : bad('"dmverity", or unset'),
      ),
      EROFS_FSVERITY: oneOf(EROFS_FSVERITY_VALUES, 'on'),
      MULTI_INSTALL_SUFFIX: field(parseSuffix),
      INSTALLATION_PREFIX: field(parseInstallationPrefix),
      CONTAINERD_CONFIG_FILE_NAME: field(parseConfigFileName),
      CONTAINERD_USER_DROP_IN_SOURCE_FILE: field((raw) =>
        raw.trim() === '' ? ok(undefined) : parseAbsolutePath(raw.trim()),
      ),
      CUSTOM_RUNTIMES_ENABLED: field((raw) => parseBool(raw, false)),
      CUSTOM_CONFIGS_DIR: field((raw) => (raw.trim() === '' ? ok(undefined) : parseAbsolutePath(raw.trim()))),
      K3S_RKE2_TEMPLATE_IMPORT: field((raw) => parseBool(raw, false)),
      K8S_DISTRIBUTION: oneOf(DISTRIBUTIONS, undefined),
      CONTAINER_RUNTIME_VERSION: field(parseRuntimeVersion),
      NODE_MACHINE_ID: field((raw) =>
        raw.trim() === ''
          ? ok(undefined)
          : /^[0-9a-f]{32}$/.test(raw.trim())
            ? ok(raw.trim())
            : bad('32 lowercase hex digits'),
      ),
      HELM_POST_DELETE_HOOK: field((raw) => parseBool(raw, false)),
      KATA_DEPLOY_TEST_CRASH_AFTER_STEP: field((raw) =>
        raw === ''
          ? ok(undefined)
          : /^[1-9]\d{0,5}$/.test(raw)
            ? ok(Number(raw))
            : bad('a step number from 1'),
      ),
      // Unset is `/`; `""` is refused (host/paths.ts holds the host-root rules).
      '--host-root': z
        .string()
        .optional()
        .transform((raw, ctx): string => {
          const result = parseHostRoot(raw);
          if (result.ok) return result.value;
          ctx.addIssue({ code: 'custom', message: result.accepted });
          return z.NEVER;
        }),
      '--artifacts-dir': field((raw) => (raw === '' ? ok('/opt/kata-artifacts') : parseAbsolutePath(raw))),
      '--containerd-socket': field((raw) => (raw === '' ? ok(undefined) : parseAbsolutePath(raw))),
      '--containerd-bin': field((raw) => (raw === '' ? ok(undefined) : parseAbsolutePath(raw))),
      '--custom-configs-dir': field((raw) => (raw === '' ? ok(undefined) : parseAbsolutePath(raw))),
      '--runtime': oneOf(RUNTIMES, undefined, ' (CRI-O is not supported yet)'),
      '--service-manager': oneOf(SERVICE_MANAGERS, 'systemd'),
      '--snapshotter-data-policy': oneOf(SNAPSHOTTER_DATA_POLICIES, undefined),
      '--restart-timeout': field((raw) =>
        raw === '' ? ok(RESTART_TIMEOUT_DEFAULT_MS) : parseDuration(raw, RESTART_TIMEOUT_MIN_MS),
      ),
    })
    .superRefine((v, ctx) => {
      const shims = v.SHIMS;
      if (shims === undefined) return; // its own issue is already reported
      const known = new Set(shims);
      const needShim = (key: RawKey, shim: string): void => {
        if (!known.has(shim)) {
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: `shims listed in SHIMS only; ${quoteValue(shim)} is not`,
          });
        }
      };
      const defaultShim =
        v.DEFAULT_SHIM ?? (known.has(defaultShimFor(arch)) ? defaultShimFor(arch) : shims[0]);
      if (defaultShim !== undefined) needShim('DEFAULT_SHIM', defaultShim);
      for (const shim of v.SNAPSHOTTER_HANDLER_MAPPING?.keys() ?? [])
        needShim('SNAPSHOTTER_HANDLER_MAPPING', shim);
      for (const shim of v.PULL_TYPE_MAPPING?.keys() ?? []) needShim('PULL_TYPE_MAPPING', shim);
      for (const shim of v.EXPERIMENTAL_FORCE_GUEST_PULL ?? [])
        needShim('EXPERIMENTAL_FORCE_GUEST_PULL', shim);
      for (const shim of v.ALLOWED_HYPERVISOR_ANNOTATIONS?.perShim.keys() ?? []) {
        needShim('ALLOWED_HYPERVISOR_ANNOTATIONS', shim);
      }
      for (const key of ['AGENT_HTTPS_PROXY', 'AGENT_NO_PROXY'] as const) {
        const proxy: ProxySetting | undefined = v[key];
        if (proxy?.kind === 'perShim') for (const shim of proxy.values.keys()) needShim(key, shim);
      }
      if (v.EXPERIMENTAL_SETUP_SNAPSHOTTER?.includes('erofs') && v.EROFS_MERGE_MODE === 'merged') {
        const goShims = [...(v.SNAPSHOTTER_HANDLER_MAPPING ?? [])]
          .filter(([shim, snapshotter]) => snapshotter === 'erofs' && !isRustShim(shim))
          .map(([shim]) => shim);
        if (goShims.length > 0) {
          ctx.addIssue({
            code: 'custom',
            path: ['SNAPSHOTTER_HANDLER_MAPPING'],
            message: `no Go-runtime shim mapped to erofs while EROFS_MERGE_MODE is merged (the default): the Go runtime cannot use merged erofs layers, and ${goShims.join(', ')} ${goShims.length === 1 ? 'is one' : 'are'}; set EROFS_MERGE_MODE=unmerged, or map runtime-rs shims only`,
          });
        }
      }
      const runtime = v['--runtime'];
      const distribution = v.K8S_DISTRIBUTION;
      if (runtime !== undefined && distribution !== undefined && distributionOf(runtime) !== distribution) {
        ctx.addIssue({
          code: 'custom',
          path: ['K8S_DISTRIBUTION'],
          message: `the distribution of --runtime ${runtime}, which is ${distributionOf(runtime)}`,
        });
      }
    });
}

/** The Kubernetes flavour a runtime belongs to (`k3s-agent` → `k3s`). */
export function distributionOf(runtime: string): string {
  if (runtime.startsWith('k3s')) return 'k3s';
  if (runtime.startsWith('rke2')) return 'rke2';
  if (runtime.startsWith('k0s')) return 'k0s';
  if (runtime === 'microk8s') return 'microk8s';
  return 'k8s';
}

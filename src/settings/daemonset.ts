/**
 * The DaemonSet mode's own settings (`kata-deploy install --daemonset`), upstream's variable names where it has
 * them, validated like every other setting: an invalid value is exit 2 naming it, before the health server binds
 * or anything is written. Kept apart from `schema.ts` because only this mode reads them.
 */
import { z } from 'zod';
import { isDnsSubdomain } from '../k8s/names.js';
import { parseStartupTaints, type StartupTaint } from '../k8s/taints.js';
import { toUsageError } from './load.js';
import { field } from './schema.js';
import { bad, ok, parseAbsolutePath, type Parsed } from './parse.js';
import { DEFAULT_DAEMONSET_NAME, parseHealthPort, parseTerminationLog } from './daemonset-values.js';

export interface DaemonSetSettings {
  /** `HEALTH_PORT` (default 8090; 0 picks a free port, for tests). */
  readonly healthPort: number;
  /** `DAEMONSET_NAME` (default `kata-deploy`): the DaemonSet whose pods run this, to tell a rolling restart. */
  readonly daemonSetName: string;
  /** `POD_NAMESPACE` (downward API); else the service account's namespace. */
  readonly podNamespace: string | undefined;
  /** `STARTUP_TAINTS`: removed once the node is labelled. */
  readonly startupTaints: readonly StartupTaint[];
  /** `--kubeconfig`, else `KUBECONFIG`; undefined: in-cluster. */
  readonly kubeconfig: string | undefined;
  /** `--termination-log` (default /dev/termination-log): where a failure's last words go. */
  readonly terminationLog: string;
  /** Test hook `KATA_DEPLOY_TEST_TIME_SCALE`: every wait and deadline multiplied by it. */
  readonly timeScale: number;
  /** Test hook `KATA_DEPLOY_TEST_SERVICEACCOUNT_PREFIX`: where the in-cluster service-account files are. */
  readonly serviceAccountPrefix: string | undefined;
  /** Test hook `KATA_DEPLOY_TEST_STEP_DELAY_MS`: a pause before each install/cleanup step. */
  readonly stepDelayMs: number;
}

export interface DaemonSetFlags {
  readonly kubeconfig?: string;
  readonly terminationLog?: string;
}

const optionalPath = (raw: string): Parsed<string | undefined> =>
  raw === '' ? ok(undefined) : parseAbsolutePath(raw);

const schema = z.object({
  HEALTH_PORT: field(parseHealthPort),
  DAEMONSET_NAME: field((raw) => {
    const v = raw.trim();
    if (v === '') return ok(DEFAULT_DAEMONSET_NAME);
    return isDnsSubdomain(v)
      ? ok(v)
      : bad('the name of a DaemonSet (lowercase letters, digits, "-" and ".")');
  }),
  POD_NAMESPACE: field((raw) => {
    const v = raw.trim();
    if (v === '') return ok(undefined);
    return /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(v) ? ok(v) : bad('the name of a namespace');
  }),
  STARTUP_TAINTS: field((raw) => {
    const r = parseStartupTaints(raw);
    return r.ok ? ok(r.value) : bad(r.accepted);
  }),
  KUBECONFIG: field((raw) => {
    // KUBECONFIG may list several files; the first one is used.
    const first = raw.split(':').find((s) => s !== '') ?? '';
    return optionalPath(first);
  }),
  '--kubeconfig': field(optionalPath),
  '--termination-log': field(parseTerminationLog),
  KATA_DEPLOY_TEST_TIME_SCALE: field((raw) => {
    if (raw === '') return ok(1);
    const v = Number(raw);
    return Number.isFinite(v) && v > 0 && v <= 1 ? ok(v) : bad('a number above 0, at most 1');
  }),
  KATA_DEPLOY_TEST_SERVICEACCOUNT_PREFIX: field(optionalPath),
  KATA_DEPLOY_TEST_STEP_DELAY_MS: field((raw) =>
    raw === '' ? ok(0) : /^\d{1,6}$/.test(raw) ? ok(Number(raw)) : bad('milliseconds, at most 999999'),
  ),
});

type Key = keyof z.input<typeof schema>;
const ENV: readonly Key[] = [
  'HEALTH_PORT',
  'DAEMONSET_NAME',
  'POD_NAMESPACE',
  'STARTUP_TAINTS',
  'KUBECONFIG',
  'KATA_DEPLOY_TEST_TIME_SCALE',
  'KATA_DEPLOY_TEST_SERVICEACCOUNT_PREFIX',
  'KATA_DEPLOY_TEST_STEP_DELAY_MS',
];

export function loadDaemonSetSettings(
  env: Readonly<Record<string, string | undefined>>,
  flags: DaemonSetFlags,
): DaemonSetSettings {
  const raw: Partial<Record<Key, string>> = {};
  for (const key of ENV) if (env[key] !== undefined) raw[key] = env[key];
  if (flags.kubeconfig !== undefined) raw['--kubeconfig'] = flags.kubeconfig;
  if (flags.terminationLog !== undefined) raw['--termination-log'] = flags.terminationLog;
  const result = schema.safeParse(raw);
  if (!result.success) throw toUsageError(result.error.issues, raw, '');
  const v = result.data;
  return Object.freeze({
    healthPort: v.HEALTH_PORT,
    daemonSetName: v.DAEMONSET_NAME,
    podNamespace: v.POD_NAMESPACE,
    startupTaints: v.STARTUP_TAINTS,
    kubeconfig: v['--kubeconfig'] ?? v.KUBECONFIG,
    terminationLog: v['--termination-log'],
    timeScale: v.KATA_DEPLOY_TEST_TIME_SCALE,
    serviceAccountPrefix: v.KATA_DEPLOY_TEST_SERVICEACCOUNT_PREFIX,
    stepDelayMs: v.KATA_DEPLOY_TEST_STEP_DELAY_MS,
  });
}

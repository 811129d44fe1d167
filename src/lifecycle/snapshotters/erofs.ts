/**
 * containerd's built-in erofs snapshotter (`EXPERIMENTAL_SETUP_SNAPSHOTTER=erofs`): nothing to install, only
 * containerd's configuration, written and removed with the handlers. Upstream's keys and values:
 *
 * - images plugin `discard_unpacked_layers = false`; diff service `default = ["erofs", "walking"]`;
 * - snapshotter `enable_fsverity` (`EROFS_FSVERITY`, on unless turned off), `set_immutable = true`, and on
 *   containerd 2.2 `dmverity_mode` ("on"/"off"), `default_size` ("10G" disk, "0" memory) and
 *   `max_unmerged_layers = 0` (merged only: in unmerged mode the key is not written);
 * - differ `mkfs_options = ["-T0", "--mkfs-time", "--sort=none"]`, and on 2.2 `enable_dmverity` and
 *   `enable_tar_index = false`.
 *
 * containerd 2.1.9 ignores the 2.2 keys (it logs "Ignoring unknown key"), so a setting that only they carry is
 * refused on 2.1 before anything is written, naming 2.2 (see `containerdGaps`); what 2.1 does without them —
 * a directory as the writable layer, one erofs image per layer, no dm-verity — is EROFS_SNAPSHOTTER_MODE=memory,
 * EROFS_MERGE_MODE=unmerged and no EROFS_DMVERITY. The host must pass the erofs rules of `kata-deploy check`.
 */
import { SYSTEMD_DEFAULT_PATH, findMkfsErofs, gatherErofsFacts } from '../../check/erofs-facts.js';
import { systemHostFacts } from '../../check/host.js';
import { erofsFindings, type ErofsHostFacts } from '../../check/rules/erofs.js';
import type { ConfigEdit } from '../../containerd/config/edit.js';
import { EROFS_PLUGINS, pluginPaths } from '../../containerd/config/runtimes.js';
import type { TomlPath, TomlValue } from '../../containerd/config/toml.js';
import { formatVersion, type ContainerdVersion } from '../../containerd/config/version.js';
import { HostError, UsageError, errorMessage } from '../../errors/index.js';
import type { Host } from '../../host/index.js';
import { EROFS_SNAPSHOTTER, SERVICE_SPEC_DIR } from '../../names/index.js';
import type { ErofsSettings, Settings } from '../../settings/index.js';
import type { HookObserveInput, SnapshotterHook, SnapshotterHookContext } from '../hooks.js';
import type { Step } from '../steps.js';

export const EROFS_MKFS_OPTIONS = ['-T0', '--mkfs-time', '--sort=none'];

/** What 2.2 added, and which setting needs it: `[setting as written, the keys that carry it]`. */
export function containerdGaps(
  erofs: ErofsSettings,
  v: Pick<ContainerdVersion, 'major' | 'minor'>,
): string[] {
  if (v.major > 2 || (v.major === 2 && v.minor >= 2)) return [];
  const gaps: string[] = [];
  if (erofs.mode === 'disk') gaps.push('EROFS_SNAPSHOTTER_MODE=disk (the default; default_size = "10G")');
  if (erofs.merge === 'merged') gaps.push('EROFS_MERGE_MODE=merged (the default; max_unmerged_layers = 0)');
  if (erofs.dmverity) gaps.push('EROFS_DMVERITY=dmverity (dmverity_mode, enable_dmverity)');
  return gaps;
}

/** Refusals that depend on the node's containerd (exit 2, before anything is written). */
export function refuseForContainerd(settings: Settings, v: ContainerdVersion): void {
  if (v.major < 2 || (v.major === 2 && v.minor < 1)) {
    throw new UsageError(
      `EXPERIMENTAL_SETUP_SNAPSHOTTER=erofs needs containerd 2.1 or later (its erofs snapshotter and differ); this node runs containerd ${formatVersion(v)}`,
      { input: 'EXPERIMENTAL_SETUP_SNAPSHOTTER', hint: 'upgrade containerd, or leave erofs out' },
    );
  }
  const gaps = containerdGaps(settings.erofs, v);
  if (gaps.length > 0) {
    throw new UsageError(
      `${gaps.join('; ')}: ${gaps.length === 1 ? 'needs' : 'need'} containerd 2.2 or later, whose erofs plugins have these keys; this node runs containerd ${formatVersion(v)}, which ignores them`,
      {
        input: gaps[0]!.split('=')[0],
        hint: 'on containerd 2.1 set EROFS_SNAPSHOTTER_MODE=memory and EROFS_MERGE_MODE=unmerged and leave EROFS_DMVERITY unset (what 2.1 does: a directory as the writable layer, one erofs image per layer); or upgrade containerd to 2.2',
      },
    );
  }
}

export function erofsEdit(
  settings: Settings,
  configVersion: number,
  v: Pick<ContainerdVersion, 'major' | 'minor'>,
): ConfigEdit {
  const { snapshotter, differ, diffService } = EROFS_PLUGINS;
  const e = settings.erofs;
  const values: { path: TomlPath; value: TomlValue }[] = [];
  const set = (path: TomlPath, key: string, value: TomlValue) => values.push({ path: [...path, key], value });
  const images = pluginPaths(configVersion).snapshotAnnotations;
  if (images !== undefined) set(images, 'discard_unpacked_layers', false);
  set(diffService, 'default', ['erofs', 'walking']);
  set(snapshotter, 'enable_fsverity', e.fsverity);
  set(snapshotter, 'set_immutable', true);
  set(differ, 'mkfs_options', EROFS_MKFS_OPTIONS);
  if (v.major > 2 || (v.major === 2 && v.minor >= 2)) {
    set(snapshotter, 'dmverity_mode', e.dmverity ? 'on' : 'off');
    set(snapshotter, 'default_size', e.mode === 'disk' ? '10G' : '0');
    if (e.merge === 'merged') set(snapshotter, 'max_unmerged_layers', 0);
    set(differ, 'enable_dmverity', e.dmverity);
    set(differ, 'enable_tar_index', false);
  }
  return { tables: [], values, arrayEntries: [] };
}

export interface ErofsFacts {
  /** What the host offers (install only). */
  readonly host: ErofsHostFacts | undefined;
}

/** The directories of containerd's PATH: the process supervisor's spec, or systemd's default for services. */
async function containerdPathDirs(
  settings: Settings,
  host: Host,
  unit: string | undefined,
): Promise<{ node: string; here: string }[]> {
  if (settings.serviceManager === 'process' && unit !== undefined) {
    const text = await host.readText(`${SERVICE_SPEC_DIR}/${unit}.json`);
    try {
      const path = (JSON.parse(text ?? '{}') as { env?: { PATH?: unknown } }).env?.PATH;
      // The supervisor runs programs from this process's view: its PATH is already as seen from here.
      if (typeof path === 'string')
        return path
          .split(':')
          .filter((d) => d.startsWith('/'))
          .map((d) => ({ node: d, here: d }));
    } catch {
      // an unreadable spec: fall back to the default below
    }
  }
  return SYSTEMD_DEFAULT_PATH.map((d) => ({ node: d, here: host.path(d) }));
}

async function observe(input: HookObserveInput): Promise<ErofsFacts> {
  const { settings, host, names, action } = input;
  if (action !== 'install' || !settings.setupSnapshotters.includes('erofs')) return { host: undefined };
  const dirs = await containerdPathDirs(settings, host, names.containerd.unit);
  const mkfs = await findMkfsErofs(dirs, async (file) => {
    try {
      const r = await host.exec(file, ['--version'], { timeoutMs: 10_000 });
      return r.code === 0
        ? { ok: true, output: `${r.stdout}${r.stderr}` }
        : { ok: false, reason: `exit ${r.code ?? r.signal}: ${r.stderr.trim().split('\n')[0] ?? ''}` };
    } catch (error) {
      return { ok: false, reason: errorMessage(error) };
    }
  });
  // The kernel is the same from any mount namespace: its files are read from this process's own /proc and /sys.
  return { host: gatherErofsFacts(systemHostFacts(), mkfs) };
}

/** The host rules install needs to pass; a FAIL refuses the install before anything is written. */
export function refuseForHost(settings: Settings, facts: ErofsHostFacts): void {
  const failed = erofsFindings(facts, settings.erofs).filter((f) => f.status === 'fail');
  if (failed.length === 0) return;
  throw new HostError(
    `this host cannot run containerd's erofs snapshotter: ${failed.map((f) => `${f.message}${f.hint ? ` (${f.hint})` : ''}`).join('; ')}`,
    {
      input: 'EXPERIMENTAL_SETUP_SNAPSHOTTER',
      hint: '`EXPERIMENTAL_SETUP_SNAPSHOTTER=erofs kata-deploy check` lists what erofs needs; nothing was changed on the node',
    },
  );
}

function planInstall(ctx: SnapshotterHookContext): Step[] {
  refuseForContainerd(ctx.settings, ctx.observed.containerdVersion);
  const facts = ctx.facts as ErofsFacts | undefined;
  if (facts?.host === undefined) throw new Error('erofs hook: planned without observing first');
  refuseForHost(ctx.settings, facts.host);
  return [];
}

/** Cleans containerd's records of erofs that no workload needs; its store is containerd's, never wiped. */
export const EROFS_CLEAN_STEP: Step = {
  kind: 'cleanSnapshotterRecords',
  snapshotter: EROFS_SNAPSHOTTER,
  socket: '',
  dataDir: `<containerd root>/io.containerd.snapshotter.v1.${EROFS_SNAPSHOTTER}`,
  builtIn: true,
};

export const erofsHook: SnapshotterHook = {
  name: 'erofs',
  observe,
  planInstall,
  containerdEdit: (ctx) => erofsEdit(ctx.settings, ctx.configVersion, ctx.observed.containerdVersion),
  // containerd's own store: its records stay valid after uninstall (erofs is built in), so nothing is wiped.
  planCleanup: () => [],
  // Built in: left behind, its records that no workload needs go; containers on it keep running without
  // kata-deploy's configuration (that only tells the differ how to unpack new layers).
  planRetire: () => ({ steps: [EROFS_CLEAN_STEP], retain: false }),
};

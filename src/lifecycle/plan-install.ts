/**
 * Plan install (pure): payload and per-handler files, then containerd's configuration, then a restart and a
 * check that containerd serves the handlers. The install state is written before anything it describes, and
 * marked `installed` only at the end, so an interrupted install is finished (or cleaned up) by the next run.
 */
import {
  chooseLayout,
  fileRecordFor,
  kataConfigEdit,
  planConfigInstall,
  sha256Text,
  type ConfigFileChange,
} from '../containerd/config/index.js';
import { UsageError } from '../errors/index.js';
import type { FileRecord, InstallState } from '../host/index.js';
import type { Settings } from '../settings/index.js';
import { planArtifactsInstall } from './artifacts/plan.js';
import { hookContext, type SnapshotterHook } from './hooks.js';
import type { Observed } from './observe.js';
import type { Step } from './steps.js';
import { missingDirs, othersRecords, sameState, sharedCreatedDirs } from './plan-util.js';
import { planTransition } from './snapshotters/transition.js';

export const CREATED_MARKER_TEXT =
  'This configuration file was created by kata-deploy; `kata-deploy cleanup` removes it.\n';

export function planInstall(
  settings: Settings,
  observed: Observed,
  hooks: readonly SnapshotterHook[],
): Step[] {
  const { names, state } = observed;
  const c = names.containerd;
  checkHost(settings, observed, hooks);
  const layout = chooseLayout(settings, names, {
    containerdVersion: observed.containerdVersion,
    mainConfig: observed.files.get(c.configFile),
    importedConfigs: observed.importedConfigs,
    files: observed.files,
    recorded: new Set(Object.keys(state?.files ?? {})),
  });
  const hookBase = { settings, names, observed, configVersion: layout.configVersion };
  const active = hooks.filter((h) => settings.setupSnapshotters.includes(h.name));
  const transition = planTransition(settings, observed, hooks, hookBase);
  const edit = kataConfigEdit({
    configVersion: layout.configVersion,
    handlers: names.handlers,
    debug: settings.debug,
    extra: [...active, ...transition.retained].map((h) => h.containerdEdit(hookContext(hookBase, h))),
  });
  const userDropIn = settings.containerdUserDropIn;
  const changes = planConfigInstall(
    layout,
    edit,
    {
      files: observed.files,
      recorded: state?.files ?? {},
      backups: observed.backups,
      stateFile: names.stateFile,
      others: othersRecords(observed),
    },
    userDropIn === undefined ? {} : { userDropIn: userDropInText(userDropIn.source, userDropIn.content) },
  );

  const records: Record<string, FileRecord> = {};
  const before: Step[] = [];
  for (const ch of changes) {
    if (ch.content === undefined) continue;
    const previous = state?.files[ch.path];
    const current = observed.files.get(ch.path);
    records[ch.path] = fileRecordFor(ch, previous, current, c.backupFile);
    const backupFile = previous?.backupFile ?? c.backupFile;
    const backupMissing =
      previous?.originalSha256 !== undefined &&
      sha256Text(observed.backups.get(backupFile) ?? '') !== previous.originalSha256 &&
      current !== undefined &&
      sha256Text(current) === previous.originalSha256;
    // A file another install edited first keeps that install's backup (ch.inherits): a copy taken now would
    // hold the other install's part, not the operator's original.
    const firstEdit = previous === undefined && ch.inherits?.backupFile === undefined;
    if (ch.owner === 'user' && current !== undefined && (firstEdit || backupMissing)) {
      before.push(
        writeFile(backupFile, current, observed.modes.get(ch.path), 'copy of the original configuration'),
      );
    }
    if (ch.owner === 'user' && current === undefined && ch.origin === 'created') {
      before.push(
        writeFile(
          c.createdMarker,
          CREATED_MARKER_TEXT,
          0o644,
          'marks the configuration as created by kata-deploy',
        ),
      );
    }
  }
  const configDirs = changes.flatMap((ch) =>
    ch.content === undefined ? [] : missingDirs(ch.path, observed, names.installDir),
  );
  const ownPaths = [
    names.stateFile,
    `${names.installDir}/x`,
    ...changes.flatMap((ch) => (ch.content === undefined ? [] : [ch.path])),
  ];
  const createdDirs = unique([
    ...(state?.createdDirs ?? []),
    ...sharedCreatedDirs(ownPaths, observed).filter((d) => d !== names.installDir),
    ...missingDirs(names.stateFile, observed),
    ...missingDirs(`${names.installDir}/x`, observed).filter((d) => d !== names.installDir),
    ...configDirs,
  ]);
  const base: Omit<InstallState, 'files' | 'phase'> = {
    version: 1,
    ...(names.suffix ? { suffix: names.suffix } : {}),
    installDir: names.installDir,
    handlers: names.handlers.map((h) => h.handler),
    createdDirs,
    snapshotters: transition.record,
  };
  // Until this run is done, the state names the handlers the previous install left too: a run killed half-way
  // still checks them gone when it is finished (or cleaned up).
  const handlersBefore = (state?.handlers ?? []).filter((h) => !base.handlers.includes(h));
  const installing: InstallState = {
    ...base,
    handlers: [...base.handlers, ...handlersBefore],
    files: { ...state?.files, ...records },
    phase: 'installing',
  };
  const installed: InstallState = { ...base, files: records, phase: 'installed' };

  const writes = configWrites(changes, observed);
  const backups = before.filter(
    (step) => step.kind !== 'writeFile' || observed.backups.get(step.path) !== step.content,
  );
  const work: Step[] = [
    ...backups,
    ...transition.steps,
    ...active.flatMap((h) => h.planInstall(hookContext(hookBase, h))),
    ...planArtifactsInstall(settings, names, observed.artifacts!),
    ...configDirs.map((path): Step => ({ kind: 'mkdir', path })),
    ...writes,
  ];
  const verify: Step = {
    kind: 'verifyHandlers',
    handlers: names.handlers.map((h) => h.handler),
    expect: 'present',
  };
  if (work.length === 0 && state !== undefined && sameState(state, installed)) return [verify];
  // Handlers the previous install configured and these settings do not want (a shim, a variant or a custom
  // runtime dropped): checked gone through CRI in this same run.
  const wanted = new Set(names.handlers.map((h) => h.handler));
  const dropped = (state?.handlers ?? []).filter((h) => !wanted.has(h));
  // Backups first: the state that names them is written only once they exist.
  const steps: Step[] = [
    ...backups,
    { kind: 'writeState', state: installing },
    ...work.slice(backups.length),
  ];
  if (writes.length > 0 || state?.phase !== 'installed') {
    const restore = changes
      .filter((ch) => ch.content !== observed.files.get(ch.path))
      .map((ch) => ({ path: ch.path, content: observed.files.get(ch.path) }));
    // Whether CRI serves is recorded before the first change, so the check after the restart can tell a
    // restart that broke CRI from a node where CRI never served.
    steps.unshift({ kind: 'probeCri' });
    steps.push({ kind: 'restartRuntime', unit: c.unit, restore });
  }
  steps.push(verify);
  if (dropped.length > 0) steps.push({ kind: 'verifyHandlers', handlers: dropped, expect: 'absent' });
  steps.push(...active.flatMap((h) => h.planInstallReady?.(hookContext(hookBase, h)) ?? []));
  steps.push({ kind: 'writeState', state: installed });
  return steps;
}

/** Writes that change a file, kata-deploy's drop-ins before the files that import them; removals last. */
function configWrites(changes: readonly ConfigFileChange[], observed: Observed): Step[] {
  const rank = (ch: ConfigFileChange) => (ch.content === undefined ? 2 : ch.owner === 'kata' ? 0 : 1);
  return [...changes]
    .filter((ch) => ch.content !== observed.files.get(ch.path))
    .sort((a, b) => rank(a) - rank(b))
    .map((ch): Step =>
      ch.content === undefined
        ? { kind: 'removeFile', path: ch.path, reason: 'configuration kata-deploy no longer uses' }
        : writeFile(
            ch.path,
            ch.content,
            observed.modes.get(ch.path),
            ch.owner === 'kata' ? 'kata runtime handlers' : 'kata runtime handlers added',
          ),
    );
}

/** The operator's containerd drop-in as kata-deploy writes it: their bytes under a line saying whose they are. */
export function userDropInText(source: string, content: string): string {
  return (
    `# Copied by kata-deploy from ${source} (CONTAINERD_USER_DROP_IN_SOURCE_FILE) and loaded after\n` +
    "# kata-deploy's own drop-in. `kata-deploy cleanup` removes this copy; edit the source instead.\n" +
    content
  );
}

function writeFile(path: string, content: string, mode: number | undefined, reason: string): Step {
  return { kind: 'writeFile', path, content, mode: mode ?? 0o644, reason };
}

function unique(paths: readonly string[]): string[] {
  return [...new Set(paths)];
}

/** Upstream's host checks that depend on what was observed (settings are checked when they are loaded). */
function checkHost(settings: Settings, observed: Observed, hooks: readonly SnapshotterHook[]): void {
  if (settings.nodeMachineId !== undefined && observed.machineId !== settings.nodeMachineId) {
    throw new UsageError(
      `NODE_MACHINE_ID="${settings.nodeMachineId}" does not match this host's /etc/machine-id (${observed.machineId ?? 'missing'})`,
      {
        input: 'NODE_MACHINE_ID',
        hint: 'the node name now belongs to another machine; rerun the installer for it',
      },
    );
  }
  for (const r of settings.customRuntimes) {
    const other = (observed.siblingStates ?? []).find((s) => s.handlers.includes(r.handler));
    if (other !== undefined) {
      throw new UsageError(
        `custom runtime ${r.handler} is a handler another install on this node configures (${other.suffix === undefined ? 'the one without MULTI_INSTALL_SUFFIX' : `MULTI_INSTALL_SUFFIX=${other.suffix}`})`,
        {
          input: `${settings.customConfigsDir}/custom-runtimes.list`,
          hint: 'give the custom runtime a handler name of its own; nothing was changed on the node',
        },
      );
    }
  }
  for (const name of settings.setupSnapshotters) {
    if (!hooks.some((h) => h.name === name)) {
      throw new UsageError(`EXPERIMENTAL_SETUP_SNAPSHOTTER="${name}": this build cannot set up ${name} yet`, {
        input: 'EXPERIMENTAL_SETUP_SNAPSHOTTER',
        hint: 'leave it unset',
      });
    }
  }
}

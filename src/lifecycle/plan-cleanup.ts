/**
 * Plan cleanup and reset (pure). Cleanup runs in the safe order: snapshotter hooks, containerd's configuration
 * back to the user's (the file that imports a drop-in before the drop-in itself), backups and markers, the
 * artifacts, directories kata-deploy created, and the restart last, so containerd never points at something
 * already gone. Without an install state, it removes kata-deploy's part by name.
 */
import {
  configVersionOf,
  kataConfigEdit,
  planConfigCleanup,
  type ConfigEdit,
  type ConfigFileChange,
} from '../containerd/config/index.js';
import type { FileRecord } from '../host/index.js';
import type { Settings } from '../settings/index.js';
import { hookContext, type SnapshotterHook } from './hooks.js';
import type { Observed } from './observe.js';
import type { Step } from './steps.js';
import { hooksOnNode } from './snapshotters/transition.js';
import { othersRecords } from './plan-util.js';

export function planCleanup(
  settings: Settings,
  observed: Observed,
  hooks: readonly SnapshotterHook[],
): Step[] {
  const { names, state } = observed;
  const c = names.containerd;
  const main = observed.files.get(c.configFile);
  const configVersion =
    (main === undefined ? undefined : configVersionOf(main)) ??
    (observed.containerdVersion.major >= 2 ? 3 : 2);
  const base = { settings, names, observed, configVersion };
  const active = hooksOnNode(settings, state?.snapshotters, hooks);
  const kata = kataConfigEdit({
    configVersion,
    handlers: names.handlers,
    debug: false,
    extra: configVersion >= 2 ? active.map((h) => h.containerdEdit(hookContext(base, h))) : [],
  });
  const fallbackEdit: ConfigEdit = {
    ...kata,
    arrayEntries: [{ path: ['imports'], entry: c.installDropIn }],
  };
  const dropIns = [
    c.installDropIn,
    c.confDDropIn,
    ...(c.distroDropIns ? [c.distroDropIns.v3, c.distroDropIns.v2] : []),
  ];
  const others = othersRecords(observed);
  const changes = planConfigCleanup(
    {
      files: observed.files,
      recorded: state?.files ?? {},
      backups: observed.backups,
      stateFile: names.stateFile,
      others,
    },
    { dropIns, mainFile: c.configFile, edit: fallbackEdit },
  );

  const steps: Step[] = [];
  if (state !== undefined && state.phase !== 'cleaning')
    steps.push({ kind: 'writeState', state: { ...state, phase: 'cleaning' } });
  for (const h of active) steps.push(...h.planCleanup(hookContext(base, h)));
  const writes = configWrites(changes, observed);
  steps.push(...writes);
  for (const path of backupsToRemove(observed, changes, others)) {
    steps.push({ kind: 'removeFile', path, reason: 'kata-deploy backup or marker' });
  }
  if (observed.existingDirs.has(names.installDir)) {
    steps.push({ kind: 'removeTree', path: names.installDir, reason: 'Kata artifacts' });
  }
  const stateDirs = new Set(ancestorsOf(names.stateFile));
  const created = [...(state?.createdDirs ?? [])].sort((a, b) => b.length - a.length);
  for (const dir of created) if (!stateDirs.has(dir)) steps.push({ kind: 'removeDirIfEmpty', path: dir });
  if (writes.length > 0 || state?.phase === 'cleaning' || state?.phase === 'installing') {
    steps.push({ kind: 'restartRuntime', unit: c.unit, restore: [] });
  }
  // Nothing of kata-deploy on the node (no state, nothing to revert or remove): there is no restart to judge.
  if (state !== undefined || steps.length > 0)
    steps.push({
      kind: 'verifyHandlers',
      // What the install recorded (a custom runtime or variant the current settings no longer name included).
      handlers: [...new Set([...(state?.handlers ?? []), ...names.handlers.map((h) => h.handler)])],
      expect: 'absent',
    });
  if (state !== undefined) steps.push({ kind: 'removeState' });
  for (const dir of created) if (stateDirs.has(dir)) steps.push({ kind: 'removeDirIfEmpty', path: dir });
  // Without a state (a cleanup killed right after removing it), kata-deploy's own state dir goes by name.
  if (state === undefined && observed.existingDirs.has(names.stateDir))
    steps.push({ kind: 'removeDirIfEmpty', path: names.stateDir });
  return steps;
}

/** `reset`: restart the runtime (and the kubelet, where it runs) so the node forgets any stale runtime state. */
export function planReset(observed: Observed): Step[] {
  return [
    { kind: 'restartRuntime', unit: observed.names.containerd.unit, restore: [] },
    { kind: 'service', action: 'restart', unit: observed.names.kubeletUnit, ifActive: true },
  ];
}

/**
 * This install's backups and the created-marker, except what another install still needs: a backup its record
 * names (it took over this install's origin, or this one took over its), and the marker while the file it marks
 * stays and another install has a record of it. While the file keeps a drop-in of an install whose state could
 * not be read, nothing is removed: that state may name any of them.
 */
function backupsToRemove(
  observed: Observed,
  changes: readonly ConfigFileChange[],
  others: readonly Readonly<Record<string, FileRecord>>[],
): string[] {
  if (changes.some((ch) => ch.othersPart === 'unrecorded')) return [];
  const c = observed.names.containerd;
  const records = Object.values(observed.state?.files ?? {});
  const usedByOthers = new Set(others.flatMap((files) => Object.values(files).map((r) => r.backupFile)));
  const candidates = new Set([c.backupFile, ...records.flatMap((r) => r.backupFile ?? [])]);
  const out = [...candidates].filter((path) => !usedByOthers.has(path));
  const change = changes.find((ch) => ch.path === c.configFile);
  const fileStays =
    change === undefined ? observed.files.get(c.configFile) !== undefined : change.content !== undefined;
  if (!(fileStays && others.some((files) => files[c.configFile] !== undefined))) out.unshift(c.createdMarker);
  return out.filter((path) => observed.backups.get(path) !== undefined);
}

function configWrites(changes: readonly ConfigFileChange[], observed: Observed): Step[] {
  return [...changes]
    .filter((ch) => ch.content !== observed.files.get(ch.path))
    .sort((a, b) => Number(a.content === undefined) - Number(b.content === undefined))
    .map((ch): Step =>
      ch.content === undefined
        ? {
            kind: 'removeFile',
            path: ch.path,
            reason: ch.owner === 'kata' ? 'kata-deploy drop-in' : 'created by kata-deploy',
          }
        : {
            kind: 'writeFile',
            path: ch.path,
            content: ch.content,
            mode: observed.modes.get(ch.path) ?? 0o644,
            reason: 'configuration as it was before kata-deploy',
          },
    );
}

function ancestorsOf(path: string): string[] {
  const out: string[] = [];
  for (let p = path.slice(0, path.lastIndexOf('/')); p !== ''; p = p.slice(0, p.lastIndexOf('/')))
    out.push(p);
  return out;
}

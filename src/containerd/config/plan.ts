/**
 * Which containerd configuration files install and cleanup write, with what content. Pure: takes the files'
 * current text and what the install state recorded, returns the content each file must end up with.
 *
 * A user file is always rebuilt from the user's own content (the original bytes if the file is still exactly
 * what kata-deploy wrote, otherwise the file minus kata-deploy's previous edit), so installing twice changes
 * nothing and a changed handler list leaves no stale tables. Cleanup restores the original bytes when the file
 * is untouched since install, and removes only kata-deploy's part when the user edited it since.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { UsageError } from '../../errors/index.js';
import type { FileRecord } from '../../host/state.js';
import {
  applyEdit,
  editRecordSchema,
  revertEdit,
  undoEdit,
  type ConfigEdit,
  type EditRecord,
} from './edit.js';
import type { ConfigLayout } from './layout.js';
import { pluginPaths, renderDropIn } from './runtimes.js';
import { editPresent, otherDropInPresent, sinceOriginal, withoutValues } from './shared.js';
import { getAt, parseToml, type TomlPath, type TomlTable, type TomlValue } from './toml.js';

export interface UserEdit {
  readonly edit: ConfigEdit;
  readonly record: EditRecord;
}

export const userEditSchema = z.object({
  edit: z.object({
    tables: z.array(z.object({ path: z.array(z.string()), body: z.record(z.string(), z.unknown()) })),
    values: z.array(z.object({ path: z.array(z.string()), value: z.unknown() })),
    arrayEntries: z.array(z.object({ path: z.array(z.string()), entry: z.string() })),
  }),
  record: editRecordSchema,
});

/**
 * The edit the install state recorded for the file at `path`; undefined when the record has none (a drop-in
 * kata-deploy owns wholly). A recorded edit that does not read is refused (exit 2): without it cleanup cannot
 * take kata-deploy's tables out of a file the user edited since, and would leave them there silently.
 */
export function readUserEdit(
  recorded: FileRecord | undefined,
  path: string,
  stateFile = 'the install state',
): UserEdit | undefined {
  if (recorded?.edit === undefined) return undefined;
  const parsed = userEditSchema.safeParse(recorded.edit);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined ? '' : ` (edit.${issue.path.join('.')}: ${issue.message})`;
    throw new UsageError(
      `the install state ${stateFile} is corrupt: its record of ${path} holds an edit kata-deploy cannot read${where}`,
      {
        input: stateFile,
        hint: `restore ${stateFile} from a backup, or remove it (cleanup then takes kata-deploy's part out by name); nothing was changed on the node`,
      },
    );
  }
  const edit = parsed.data.edit as unknown as ConfigEdit;
  return { edit, record: parsed.data.record };
}

/** Every recorded edit must read before anything is planned on top of the records. */
function checkRecordedEdits(facts: ConfigFacts): void {
  for (const [path, recorded] of Object.entries(facts.recorded))
    readUserEdit(recorded, path, facts.stateFile);
}

export interface ConfigFileChange {
  readonly path: string;
  /** The content the file must have; undefined: the file must not exist. */
  readonly content: string | undefined;
  /** `kata`: a drop-in wholly owned by kata-deploy; `user`: a file kata-deploy edits or restores. */
  readonly owner: 'kata' | 'user';
  /** For user files kata-deploy keeps edited: whether the file existed before the first install. */
  readonly origin?: 'created' | 'existing';
  readonly userEdit?: UserEdit;
  /**
   * A user file another install already edited and this one had not: that install's record of the original
   * (origin, hash, and its backup unless this install copies the file itself), which this one takes over
   * instead of taking the file as it is now for the original.
   */
  readonly inherits?: Pick<FileRecord, 'origin' | 'originalSha256' | 'backupFile'>;
  /**
   * Cleanup of a user file that keeps another install's part: `recorded` when a state this run read names it,
   * `unrecorded` when it is another kata-deploy drop-in no readable state accounts for.
   */
  readonly othersPart?: 'recorded' | 'unrecorded';
}

/** The content of files a layout names besides kata-deploy's drop-in. */
export interface LayoutContents {
  /** The operator's containerd drop-in as it is written (`layout.userDropIn`). */
  readonly userDropIn?: string;
}

export interface ConfigFacts {
  /** Current text of every file involved (recorded ones included); undefined = missing. */
  readonly files: ReadonlyMap<string, string | undefined>;
  /** The state's records, by node path (empty on a first install or when the state is lost). */
  readonly recorded: Readonly<Record<string, FileRecord>>;
  /** Text of each recorded backup file, by the backup's node path. */
  readonly backups: ReadonlyMap<string, string | undefined>;
  /** Node path of the install state the records come from, for errors about them. */
  readonly stateFile?: string;
  /** The records of the other installs on the node (other MULTI_INSTALL_SUFFIX values), by node path. */
  readonly others?: readonly Readonly<Record<string, FileRecord>>[];
}

export function sha256Text(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The user's own content of a file: what it would be without this install. While another install's part is
 * still in the file, only this install's tables and entries come out (that part, and values both may set,
 * stay); the last install to leave the file gives back the original, as a single install does.
 */
function userBase(path: string, facts: ConfigFacts): string | undefined {
  const current = facts.files.get(path);
  const recorded = facts.recorded[path];
  if (recorded === undefined || current === undefined) return current;
  if (sha256Text(current) === recorded.originalSha256) return current; // not written yet (interrupted run)
  const userEdit = readUserEdit(recorded, path, facts.stateFile);
  if (userEdit !== undefined && othersPartIn(path, current, userEdit.edit, facts) !== undefined) {
    return revertEdit(current, withoutValues(userEdit.edit), userEdit.record, path);
  }
  const original = originalOf(recorded, facts);
  if (sha256Text(current) === recorded.writtenSha256) {
    if (recorded.origin === 'created') return undefined;
    if (original !== undefined) return original;
  }
  if (userEdit === undefined) return current;
  return original === undefined
    ? revertEdit(current, userEdit.edit, userEdit.record, path)
    : undoEdit(current, original, userEdit.edit, sinceOriginal(userEdit.record, original, path), path);
}

/**
 * Whether the file still holds another install's part: `recorded`, a table or entry another install's record
 * names (a record that does not read counts as present: what cannot be told apart is kept); `unrecorded`,
 * another kata-deploy drop-in in a list ours is in, of an install whose state could not be read.
 */
function othersPartIn(
  path: string,
  current: string,
  ours: ConfigEdit,
  facts: ConfigFacts,
): ConfigFileChange['othersPart'] {
  const doc = parseToml(current, path);
  for (const records of facts.others ?? []) {
    if (records[path] === undefined) continue;
    let theirs: UserEdit | undefined;
    try {
      theirs = readUserEdit(records[path], path);
    } catch {
      return 'recorded';
    }
    if (theirs !== undefined && editPresent(doc, theirs.edit)) return 'recorded';
  }
  return otherDropInPresent(doc, ours) ? 'unrecorded' : undefined;
}

/**
 * Another install's record of a user file this install has no record of (the first in the states' order). Its
 * backup is taken over only while the file holds more than the original: a file that is the original now (the
 * other install was killed before writing it, or after giving it back) is copied by this install itself, so
 * its copy does not hang on a backup the other one may already have removed.
 */
function originOfOthers(path: string, facts: ConfigFacts): ConfigFileChange['inherits'] {
  const found = (facts.others ?? []).map((records) => records[path]).find((r) => r?.edit !== undefined);
  if (found === undefined) return undefined;
  const { origin, originalSha256, backupFile } = found;
  const current = facts.files.get(path);
  const isOriginal = current !== undefined && sha256Text(current) === originalSha256;
  return {
    origin,
    ...(originalSha256 === undefined ? {} : { originalSha256 }),
    ...(backupFile === undefined || isOriginal ? {} : { backupFile }),
  };
}

/** The file's bytes before the first install: empty for a file kata-deploy created, else the verified backup. */
function originalOf(recorded: FileRecord, facts: ConfigFacts): string | undefined {
  if (recorded.origin === 'created') return '';
  const backup = recorded.backupFile === undefined ? undefined : facts.backups.get(recorded.backupFile);
  return backup !== undefined && sha256Text(backup) === recorded.originalSha256 ? backup : undefined;
}

function editUserFile(
  path: string,
  edit: ConfigEdit,
  createVersion: number,
  facts: ConfigFacts,
): ConfigFileChange {
  const base = userBase(path, facts);
  const full: ConfigEdit =
    base === undefined
      ? { ...edit, values: [{ path: ['version'], value: createVersion }, ...edit.values] }
      : edit;
  const applied = applyEdit(base ?? '', full, path);
  const recorded = facts.recorded[path];
  const inherits = recorded === undefined ? originOfOthers(path, facts) : undefined;
  const origin =
    recorded?.origin ?? inherits?.origin ?? (facts.files.get(path) === undefined ? 'created' : 'existing');
  return {
    path,
    content: applied.text,
    owner: 'user',
    origin,
    userEdit: { edit: full, record: applied.record },
    ...(inherits === undefined ? {} : { inherits }),
  };
}

/**
 * containerd 1.x replaces its built-in `runtimes` map with the one a config file defines, so adding only the kata
 * tables would drop the default `runc` runtime and the CRI plugin would refuse to load. When the user's file does
 * not define its default runtime, kata-deploy adds containerd's own default for it (and removes it on cleanup).
 */
function withDefaultRuntime(edit: ConfigEdit, base: string | undefined, layout: ConfigLayout): ConfigEdit {
  if (layout.mode !== 'whole-file' || layout.configVersion >= 3) return edit;
  const runtimes = pluginPaths(layout.configVersion).runtimes;
  const doc = base === undefined ? {} : parseToml(base, layout.file);
  const containerd = runtimes.slice(0, -1);
  const defaultName = getAt(doc, [...containerd, 'default_runtime_name']) ?? 'runc';
  if (defaultName !== 'runc' || getAt(doc, [...containerd, 'default_runtime']) !== undefined) return edit;
  if (getAt(doc, [...runtimes, 'runc']) !== undefined) return edit;
  return {
    ...edit,
    tables: [
      { path: [...runtimes, 'runc'], body: { runtime_type: 'io.containerd.runc.v2' } },
      ...edit.tables,
    ],
  };
}

/** Install: the files of `layout` with kata-deploy's edit, and the undoing of recorded files it no longer uses. */
export function planConfigInstall(
  layout: ConfigLayout,
  edit: ConfigEdit,
  facts: ConfigFacts,
  extras: LayoutContents = {},
): ConfigFileChange[] {
  checkRecordedEdits(facts);
  const changes: ConfigFileChange[] = [];
  if (layout.mode === 'whole-file') {
    const base = userBase(layout.file, facts);
    changes.push(
      editUserFile(layout.file, withDefaultRuntime(edit, base, layout), layout.configVersion, facts),
    );
  } else {
    changes.push({ path: layout.dropIn, content: renderDropIn(layout.configVersion, edit), owner: 'kata' });
    const user = layout.userDropIn;
    if (user !== undefined) {
      if (extras.userDropIn === undefined)
        throw new Error('the layout has a user drop-in without its content');
      changes.push({ path: user.path, content: extras.userDropIn, owner: 'kata' });
    }
    if (layout.template !== undefined)
      changes.push({ path: layout.template.path, content: layout.template.content, owner: 'kata' });
    // The operator's drop-in is imported after kata-deploy's: a later import overrides an earlier one.
    const imports = new Map<string, string[]>();
    if (layout.mode === 'imported-drop-in') imports.set(layout.importsFile, [layout.dropIn]);
    if (user?.importedBy !== undefined)
      imports.set(user.importedBy, [...(imports.get(user.importedBy) ?? []), user.path]);
    for (const [file, entries] of imports) {
      const importEdit: ConfigEdit = {
        tables: [],
        values: [],
        arrayEntries: entries.map((entry) => ({ path: ['imports'], entry })),
      };
      changes.push(editUserFile(file, importEdit, 3, facts));
    }
  }
  const used = new Set(changes.map((c) => c.path));
  for (const path of Object.keys(facts.recorded).sort()) {
    if (!used.has(path)) changes.push(...undoFile(path, facts));
  }
  return changes;
}

/** Cleanup: every recorded file back to the user's content; without records, remove kata-deploy's part by name. */
export function planConfigCleanup(facts: ConfigFacts, fallback: FallbackTargets): ConfigFileChange[] {
  checkRecordedEdits(facts);
  const paths = Object.keys(facts.recorded).sort();
  if (paths.length > 0) return paths.flatMap((path) => undoFile(path, facts));
  const changes: ConfigFileChange[] = [];
  for (const dropIn of fallback.dropIns) {
    if (facts.files.get(dropIn) !== undefined)
      changes.push({ path: dropIn, content: undefined, owner: 'kata' });
  }
  const main = facts.files.get(fallback.mainFile);
  if (main !== undefined) {
    const reverted = revertEdit(main, fallback.edit, undefined, fallback.mainFile);
    if (reverted !== main) changes.push({ path: fallback.mainFile, content: reverted, owner: 'user' });
  }
  return changes;
}

/** What cleanup looks for when the install state is gone. */
export interface FallbackTargets {
  readonly dropIns: readonly string[];
  readonly mainFile: string;
  /** kata-deploy's edit as the current settings would make it, imports of every possible drop-in included. */
  readonly edit: ConfigEdit;
}

function undoFile(path: string, facts: ConfigFacts): ConfigFileChange[] {
  const recorded = facts.recorded[path]!;
  const current = facts.files.get(path);
  if (recorded.edit === undefined) return [{ path, content: undefined, owner: 'kata' }];
  if (current === undefined) return [{ path, content: undefined, owner: 'user' }];
  const base = userBase(path, facts);
  if (base === undefined || (recorded.origin === 'created' && onlyVersion(base, path))) {
    return [{ path, content: undefined, owner: 'user' }];
  }
  const userEdit = readUserEdit(recorded, path, facts.stateFile);
  const othersPart = userEdit && othersPartIn(path, current, userEdit.edit, facts);
  return [{ path, content: base, owner: 'user', ...(othersPart ? { othersPart } : {}) }];
}

function onlyVersion(text: string, path: string): boolean {
  const keys = Object.keys(parseToml(text, path));
  return keys.every((k) => k === 'version');
}

export type { TomlPath, TomlTable, TomlValue };

/**
 * The state record for a change about to be written. The first install's origin, original hash and backup are
 * kept for good (and taken over by another install that edits the file after it); only what was written (and
 * the edit) follows the latest install.
 */
export function fileRecordFor(
  change: ConfigFileChange,
  previous: FileRecord | undefined,
  currentText: string | undefined,
  backupFile: string,
): FileRecord {
  const written = sha256Text(change.content ?? '');
  if (change.owner === 'kata') return { origin: 'created', writtenSha256: written };
  const edit = change.userEdit;
  if (previous !== undefined) return { ...previous, writtenSha256: written, edit };
  if (change.inherits !== undefined) {
    const ownCopy = change.inherits.origin === 'existing' && change.inherits.backupFile === undefined;
    return { ...change.inherits, ...(ownCopy ? { backupFile } : {}), writtenSha256: written, edit };
  }
  const existing = currentText !== undefined;
  return {
    origin: existing ? 'existing' : 'created',
    ...(existing ? { originalSha256: sha256Text(currentText), backupFile } : {}),
    writtenSha256: written,
    edit,
  };
}

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
}

export function sha256Text(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The user's own content of a file: what it would be without kata-deploy. */
function userBase(path: string, facts: ConfigFacts): string | undefined {
  const current = facts.files.get(path);
  const recorded = facts.recorded[path];
  if (recorded === undefined || current === undefined) return current;
  if (sha256Text(current) === recorded.originalSha256) return current; // not written yet (interrupted run)
  const original = originalOf(recorded, facts);
  if (sha256Text(current) === recorded.writtenSha256) {
    if (recorded.origin === 'created') return undefined;
    if (original !== undefined) return original;
  }
  const userEdit = readUserEdit(recorded, path, facts.stateFile);
  if (userEdit === undefined) return current;
  return original === undefined
    ? revertEdit(current, userEdit.edit, userEdit.record, path)
    : undoEdit(current, original, userEdit.edit, userEdit.record, path);
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
  const origin = recorded?.origin ?? (facts.files.get(path) === undefined ? 'created' : 'existing');
  return {
    path,
    content: applied.text,
    owner: 'user',
    origin,
    userEdit: { edit: full, record: applied.record },
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
    if (layout.mode === 'imported-drop-in') {
      const importEdit: ConfigEdit = {
        tables: [],
        values: [],
        arrayEntries: [{ path: ['imports'], entry: layout.dropIn }],
      };
      changes.push(editUserFile(layout.importsFile, importEdit, 3, facts));
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
  return [{ path, content: base, owner: 'user' }];
}

function onlyVersion(text: string, path: string): boolean {
  const keys = Object.keys(parseToml(text, path));
  return keys.every((k) => k === 'version');
}

export type { TomlPath, TomlTable, TomlValue };

/**
 * The state record for a change about to be written. The first install's origin, original hash and backup are
 * kept for good; only what was written (and the edit) follows the latest install.
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
  const existing = currentText !== undefined;
  return {
    origin: existing ? 'existing' : 'created',
    ...(existing ? { originalSha256: sha256Text(currentText), backupFile } : {}),
    writtenSha256: written,
    edit,
  };
}

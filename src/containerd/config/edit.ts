/**
 * Edits to a user's TOML file that keep its comments and layout, and that can be undone exactly.
 *
 * An edit is data: whole tables kata-deploy owns, single values it sets, and entries it adds to arrays. Applying
 * appends new tables as header sections at the end of the file and changes values in place (format-preserving,
 * via @decimalturn/toml-patch); the result is parsed again and must mean exactly the intended document.
 * The returned record says what existed before, so `revertEdit` can give back the user's values even when the
 * file was edited in between.
 */
import { patch } from '@decimalturn/toml-patch';
import { z } from 'zod';
import { appendEntryText, removeEntryText } from './array-text.js';
import { keepOriginalLayout, mergeUserChanges } from './merge.js';
import { checkRootKeys } from './version.js';
import { HostError } from '../../errors/index.js';
import {
  clone,
  deleteAt,
  formatPath,
  formatValue,
  getAt,
  isTable,
  parseToml,
  renderTable,
  setAt,
  tomlEqual,
  type TomlPath,
  type TomlTable,
  type TomlValue,
} from './toml.js';

export interface ConfigEdit {
  /** Tables owned entirely by kata-deploy (a runtime handler), replaced whole. */
  readonly tables: readonly { readonly path: TomlPath; readonly body: TomlTable }[];
  /** Single values kata-deploy sets (`version`, `debug.level`). */
  readonly values: readonly { readonly path: TomlPath; readonly value: TomlValue }[];
  /** Entries added to string arrays (`imports`). */
  readonly arrayEntries: readonly { readonly path: TomlPath; readonly entry: string }[];
}

export const editRecordSchema = z.object({
  createdTables: z.array(z.array(z.string())),
  /** Tables and values that existed and were overwritten, as a TOML snippet `value = …`. */
  replaced: z.array(z.object({ path: z.array(z.string()), previous: z.string() })),
  addedEntries: z.array(
    z.object({ path: z.array(z.string()), entry: z.string(), createdArray: z.boolean() }),
  ),
});
export type EditRecord = z.infer<typeof editRecordSchema>;

const PATCH_FORMAT = { inlineTableStart: 99 };

export interface AppliedEdit {
  readonly text: string;
  readonly record: EditRecord;
}

export function applyEdit(text: string, edit: ConfigEdit, file: string): AppliedEdit {
  const doc = parseToml(text, file);
  checkRootKeys(doc, file);
  const record: EditRecord = { createdTables: [], replaced: [], addedEntries: [] };
  const noteMissingParents = (path: TomlPath) => {
    for (let i = 1; i < path.length; i++) {
      const prefix = path.slice(0, i);
      if (getAt(doc, prefix) === undefined && !record.createdTables.some((p) => tomlEqual(p, prefix))) {
        record.createdTables.push([...prefix]);
      }
    }
  };

  // Values whose table exists, and array entries, are changed in place first; a value whose table is missing
  // goes into a new section appended with the tables below.
  const inPlace = clone(doc);
  const newSections = new Map<string, { path: TomlPath; body: TomlTable }>();
  for (const { path, value } of edit.values) {
    const before = getAt(doc, path);
    if (before !== undefined) record.replaced.push({ path: [...path], previous: snippet(before) });
    else noteMissingParents(path);
    const parent = path.slice(0, -1);
    if (parent.length > 0 && getAt(doc, parent) === undefined) {
      const key = JSON.stringify(parent);
      const section = newSections.get(key) ?? { path: parent, body: {} };
      section.body[path.at(-1)!] = value;
      newSections.set(key, section);
    } else {
      setAt(inPlace, path, value, file);
    }
  }
  for (const { path, entry } of edit.arrayEntries) {
    const before = getAt(inPlace, path);
    if (before !== undefined && !Array.isArray(before)) {
      throw new HostError(`${file}: ${formatPath(path)} is not an array`, { input: file });
    }
    if (before?.includes(entry)) continue;
    if (before === undefined) noteMissingParents(path);
    record.addedEntries.push({ path: [...path], entry, createdArray: before === undefined });
    setAt(inPlace, path, [...(before ?? []), entry], file);
  }
  const added = record.addedEntries.filter((a) => !a.createdArray);
  const base = arrayEntriesAsText(text, doc, added, 'add');
  let out = tomlEqual(inPlace, base.doc) ? base.text : patchChecked(base.text, inPlace, file);
  if (text === '' && out !== '' && !out.endsWith('\n')) out += '\n'; // a file kata-deploy creates ends in a newline

  // Whole tables: appended as sections when they are new, patched in place otherwise.
  const full = clone(inPlace);
  const appended: string[] = [];
  for (const { path, body } of newSections.values()) {
    setAt(full, path, clone(body), file);
    appended.push(renderTable(path, body));
  }
  for (const { path, body } of edit.tables) {
    const before = getAt(doc, path);
    if (before !== undefined) record.replaced.push({ path: [...path], previous: snippet(before) });
    else noteMissingParents(path);
    setAt(full, path, clone(body), file);
    if (before === undefined) appended.push(renderTable(path, body));
  }
  if (!tomlEqual(full, inPlace)) {
    const separator = out === '' ? '' : out.endsWith('\n\n') ? '' : out.endsWith('\n') ? '\n' : '\n\n';
    const candidate = `${out}${separator}${appended.join('\n')}`;
    out = sameMeaning(candidate, full) ? candidate : patchChecked(out, full, file);
  }
  return { text: out, record };
}

/**
 * Undoes `edit` on `text`. With the record, overwritten values and tables come back and the tables the edit
 * created are removed again when empty; a value the user changed since the edit is left alone. Without a
 * record (state lost), owned tables and array entries are removed and values are kept.
 */
export function revertEdit(
  text: string,
  edit: ConfigEdit,
  record: EditRecord | undefined,
  file: string,
): string {
  const doc = parseToml(text, file);
  checkRootKeys(doc, file);
  const updated = clone(doc);
  const previousOf = (path: TomlPath): TomlValue | undefined => {
    const found = record?.replaced.find((r) => tomlEqual(r.path, path));
    return found === undefined ? undefined : parseToml(found.previous, `${file} (recorded value)`)['value'];
  };
  for (const { path } of edit.tables) {
    const previous = previousOf(path);
    if (previous !== undefined) setAt(updated, path, previous, file);
    else deleteAt(updated, path);
  }
  if (record !== undefined) {
    for (const { path, value } of edit.values) {
      if (!tomlEqual(getAt(updated, path), value)) continue; // changed since: the user's value now
      const previous = previousOf(path);
      if (previous !== undefined) setAt(updated, path, previous, file);
      else deleteAt(updated, path);
    }
  }
  for (const { path, entry } of edit.arrayEntries) {
    const current = getAt(updated, path);
    if (!Array.isArray(current) || !current.includes(entry)) continue; // nothing of ours to take out
    const added = record?.addedEntries.find((a) => tomlEqual(a.path, path) && a.entry === entry);
    if (record !== undefined && added === undefined) continue; // it was there before kata-deploy
    const rest = current.filter((e) => e !== entry);
    if (rest.length === 0 && (added?.createdArray ?? true)) deleteAt(updated, path);
    else setAt(updated, path, rest, file);
  }
  const created = [...(record?.createdTables ?? [])].sort((a, b) => b.length - a.length);
  for (const path of created) {
    const node = getAt(updated, path);
    if (isTable(node) && Object.keys(node).length === 0) deleteAt(updated, path);
  }
  if (tomlEqual(updated, doc)) return text;
  const kept = edit.arrayEntries.filter((a) => Array.isArray(getAt(updated, a.path)));
  const base = arrayEntriesAsText(text, doc, kept, 'remove');
  return tomlEqual(updated, base.doc) ? base.text : patchChecked(base.text, updated, file);
}

/**
 * Adds or removes array entries as text (see array-text.ts), each checked by parsing the result; an entry that
 * cannot be done that way is left to the patcher. Returns the text and what it means.
 */
function arrayEntriesAsText(
  text: string,
  doc: TomlTable,
  entries: readonly { readonly path: TomlPath; readonly entry: string }[],
  change: 'add' | 'remove',
): { text: string; doc: TomlTable } {
  let current = { text, doc };
  for (const { path, entry } of entries) {
    const array = getAt(current.doc, path);
    if (path.length !== 1 || !Array.isArray(array)) continue;
    const key = path[0]!;
    let next: string | undefined = current.text;
    let expected: TomlValue[] = array;
    if (change === 'add') {
      if (array.includes(entry)) continue;
      next = appendEntryText(next, key, entry);
      expected = [...array, entry];
    } else {
      for (let at = expected.indexOf(entry); at !== -1 && next !== undefined; at = expected.indexOf(entry)) {
        next = removeEntryText(next, key, at);
        expected = expected.filter((_, i) => i !== at);
      }
    }
    if (next === undefined || next === current.text) continue;
    const meant = clone(current.doc);
    meant[key] = expected;
    if (sameMeaning(next, meant)) current = { text: next, doc: meant };
  }
  return current;
}

function snippet(value: TomlValue): string {
  return isTable(value) ? renderTable(['value'], value) : `value = ${formatValue(value)}\n`;
}

function sameMeaning(text: string, expected: TomlTable): boolean {
  try {
    return tomlEqual(parseToml(text, ''), expected);
  } catch {
    return false;
  }
}

/**
 * `text` changed to mean `updated`, every line the change does not need kept byte for byte: the patcher's
 * output with the lines it only re-indented or trimmed given back as they were.
 */
function patchChecked(text: string, updated: TomlTable, file: string): string {
  const out = patch(text, updated, PATCH_FORMAT);
  if (!sameMeaning(out, updated)) {
    throw new HostError(`cannot edit ${file} without changing the meaning of the rest of it`, {
      input: file,
      hint: 'simplify the layout around the kata tables (e.g. inline tables) and run kata-deploy again',
    });
  }
  const kept = keepOriginalLayout(text, out);
  return kept !== undefined && sameMeaning(kept, updated) ? kept : out;
}

/**
 * Takes kata-deploy's edit out of `current`, given the user's `original` it was applied to: the user's later
 * changes are replayed on the original when they do not touch kata-deploy's lines (byte-exact), otherwise the
 * edit is undone key by key. Either way the result must mean what the key-by-key undo means.
 */
export function undoEdit(
  current: string,
  original: string,
  edit: ConfigEdit,
  record: EditRecord,
  file: string,
): string {
  const semantic = revertEdit(current, edit, record, file);
  const written = applyEdit(original, edit, file).text;
  const merged = written === current ? original : mergeUserChanges(original, written, current);
  if (merged !== undefined && sameMeaning(merged, parseToml(semantic, file))) return merged;
  return semantic;
}

/**
 * A user file that several kata-deploy installs (different MULTI_INSTALL_SUFFIX values) edit at once: on
 * containerd 2.x each adds its own entry to the one `imports` list. Pure facts about such a file that
 * containerd/config/plan.ts decides on: whether another install's part is still in it, and what kata-deploy's
 * edit did when seen from the operator's original rather than from the file one install found.
 */
import type { ConfigEdit, EditRecord } from './edit.js';
import { getAt, parseToml, type TomlTable } from './toml.js';

/** Whether `doc` still holds a table or an array entry of `edit` (values such as `version` are shared). */
export function editPresent(doc: TomlTable, edit: ConfigEdit): boolean {
  if (edit.tables.some(({ path }) => getAt(doc, path) !== undefined)) return true;
  return edit.arrayEntries.some(({ path, entry }) => {
    const array = getAt(doc, path);
    return Array.isArray(array) && array.includes(entry);
  });
}

/**
 * Whether an array `ours` adds to holds another kata-deploy drop-in: an entry other than ours with the same
 * last three path components (`…/containerd/config.d/kata-deploy.toml` under another install dir). It stands
 * for an install whose state could not be read: without it, taking the file back to the original would drop
 * that install's import.
 */
export function otherDropInPresent(doc: TomlTable, ours: ConfigEdit): boolean {
  return ours.arrayEntries.some(({ path, entry }) => {
    const array = getAt(doc, path);
    const tail = entry.split('/').slice(-3).join('/');
    if (!Array.isArray(array) || !entry.startsWith('/') || tail.split('/').length < 3) return false;
    return array.some((e) => typeof e === 'string' && e !== entry && e.endsWith(`/${tail}`));
  });
}

/**
 * The record of an edit, its array entries seen from the operator's `original`: an array the original does not
 * have was created by kata-deploy, even when this install found it there because another install had created
 * it first. The last install to leave a file then removes the array with its own entry.
 */
export function sinceOriginal(record: EditRecord, original: string, file: string): EditRecord {
  const doc = parseToml(original, file);
  return {
    ...record,
    addedEntries: record.addedEntries.map((a) =>
      a.createdArray || getAt(doc, a.path) !== undefined ? a : { ...a, createdArray: true },
    ),
  };
}

/** kata-deploy's edit without its values: what one install takes out while another still uses the file. */
export function withoutValues(edit: ConfigEdit): ConfigEdit {
  return { ...edit, values: [] };
}

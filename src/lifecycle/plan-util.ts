/** Small pure helpers shared by the planners. */
import { dirname } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { FileRecord, InstallState } from '../host/index.js';
import type { Observed } from './observe.js';

/**
 * Ancestors of `path` that do not exist yet, outermost first, stopping at (and excluding) `inside` and
 * everything under it: those are removed with the install dir anyway.
 */
export function missingDirs(
  path: string,
  observed: Pick<Observed, 'existingDirs'>,
  inside?: string,
): string[] {
  const out: string[] = [];
  for (let dir = dirname(path); dir !== '/' && !observed.existingDirs.has(dir); dir = dirname(dir)) {
    out.unshift(dir);
  }
  return inside === undefined ? out : out.filter((d) => d !== inside && !d.startsWith(`${inside}/`));
}

/** Equal as stored: key order and undefined fields do not count. */
export function sameState(a: InstallState, b: InstallState): boolean {
  return isDeepStrictEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));
}

/**
 * Directories another install on this node created that this install needs too (ancestors of `paths`): this
 * install records them as created as well, so whichever of the installs is cleaned up last removes them.
 */
export function sharedCreatedDirs(
  paths: readonly string[],
  observed: Pick<Observed, 'existingDirs' | 'siblingStates'>,
): string[] {
  const needed = new Set<string>();
  for (const path of paths) for (let dir = dirname(path); dir !== '/'; dir = dirname(dir)) needed.add(dir);
  const created = (observed.siblingStates ?? []).flatMap((s) => s.createdDirs);
  return created.filter((dir) => needed.has(dir) && observed.existingDirs.has(dir));
}

/** The file records of the other installs on this node, in a stable order (unsuffixed first, then by suffix). */
export function othersRecords(observed: Pick<Observed, 'siblingStates'>): Record<string, FileRecord>[] {
  return [...(observed.siblingStates ?? [])]
    .sort((a, b) => (a.suffix ?? '').localeCompare(b.suffix ?? ''))
    .map((s) => s.files);
}

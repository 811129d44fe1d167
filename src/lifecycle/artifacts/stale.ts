/** The install dir after a redeploy: what an earlier install left there that the current settings do not want. */
import type { Names } from '../../names/index.js';
import type { Step } from '../steps.js';
import type { ArtifactFacts } from './plan.js';
import {
  DEBUG_TOOLS,
  DEVKIT_FILES,
  DROP_INS,
  HANDLER_PARENTS,
  OTHERS_IN_INSTALL_DIR,
  relativeTo,
} from './install-tree.js';

/**
 * Files and directories an earlier install put into the install dir that the current settings no longer want:
 * handler directories, drop-ins kata-deploy generated, QEMU wrappers, and payload files the current payload
 * selection does not hold (a component of a shim no longer installed, kata-ctl without DEBUG, the devkit
 * extension without DEVKIT). What others keep there is left alone: containerd's drop-ins and the snapshotter's
 * files (their own planners'), and files an operator added to a handler's `config.d/`.
 */
export function staleEntries(
  names: Names,
  facts: ArtifactFacts,
  files: ReadonlyMap<string, unknown>,
  links: ReadonlyMap<string, unknown>,
  excluded: ReadonlySet<string>,
): Step[] {
  const dir = names.installDir;
  const wantedDirs = new Set(names.handlers.map((h) => relativeTo(dir, h.configDir)));
  // The directories holding one directory per handler: one with no wanted handler left goes whole.
  const parents = HANDLER_PARENTS.filter((p) => facts.installed.get(p)?.type === 'dir');
  const emptied = new Set(parents.filter((p) => ![...wantedDirs].some((d) => d.startsWith(`${p}/`))));
  const present = new Set<string>([...files.keys(), ...links.keys()].map((p) => relativeTo(dir, p)));
  for (const [r] of facts.payload) if (!excluded.has(r)) present.add(r);
  const keptDirs = new Set<string>();
  for (const r of present)
    for (let d = r; d.includes('/');) {
      d = d.slice(0, d.lastIndexOf('/'));
      keptDirs.add(d);
    }
  for (const [r, e] of facts.payload) if (e.type === 'dir' && !excluded.has(r)) keptDirs.add(r);
  const steps: Step[] = [];
  const removedTrees: string[] = [];
  const removeTree = (r: string, reason: string) => {
    removedTrees.push(r);
    steps.push({ kind: 'removeTree', path: `${dir}/${r}`, reason });
  };
  for (const p of emptied) removeTree(p, 'configuration of handlers no longer installed');
  for (const [r, entry] of facts.installed) {
    const path = `${dir}/${r}`;
    const parts = r.split('/');
    const parent = parts.slice(0, -1).join('/');
    if (removedTrees.some((p) => r.startsWith(`${p}/`))) continue;
    if (HANDLER_PARENTS.includes(parent)) {
      if (entry.type === 'dir' && !wantedDirs.has(r))
        removeTree(r, 'configuration of a handler no longer installed');
      continue;
    }
    if (HANDLER_PARENTS.some((p) => r.startsWith(`${p}/`))) {
      const drop = entry.type === 'file' && parts.at(-2) === 'config.d' && DROP_INS.includes(parts.at(-1)!);
      if (drop && !files.has(path))
        steps.push({ kind: 'removeFile', path, reason: 'drop-in no longer generated' });
      continue;
    }
    if (OTHERS_IN_INSTALL_DIR.some((p) => r === p || r.startsWith(`${p}/`))) continue;
    if (entry.type === 'dir') {
      if (!keptDirs.has(r)) removeTree(r, 'payload directory the current selection does not hold');
    } else if (!present.has(r)) {
      const reason = DEBUG_TOOLS.includes(r)
        ? 'debug tool (DEBUG is off)'
        : DEVKIT_FILES.includes(r)
          ? 'devkit extension (no -devkit handler uses it)'
          : r.endsWith('-installation-prefix')
            ? 'QEMU wrapper no longer needed'
            : 'payload file the current selection does not hold';
      steps.push({ kind: 'removeFile', path, reason });
    }
  }
  // A config.d/ kata-deploy no longer writes to goes too, unless the operator keeps files of their own there.
  for (const d of wantedDirs) {
    const confD = `${d}/config.d`;
    if (facts.installed.get(confD)?.type !== 'dir') continue;
    const removed = new Set(steps.flatMap((st) => (st.kind === 'removeFile' ? [st.path] : [])));
    const staying = [...facts.installed.keys()].some(
      (r) => r.startsWith(`${confD}/`) && !removed.has(`${dir}/${r}`),
    );
    const written = [...files.keys()].some((p) => p.startsWith(`${dir}/${confD}/`));
    if (!staying && !written) steps.push({ kind: 'removeDirIfEmpty', path: `${dir}/${confD}` });
  }
  return steps;
}

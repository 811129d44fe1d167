/**
 * A plan is data: the steps install, cleanup and reset take, in order. Planners build them from observed state
 * (pure); the executor runs them through host/; `--dry-run` prints them. Every step is idempotent, so a run that
 * was killed half-way converges when run again.
 */
import type { InstallState } from '../host/index.js';

export type Step =
  /** Writes the install state (before the changes it describes). */
  | { readonly kind: 'writeState'; readonly state: InstallState }
  | { readonly kind: 'removeState' }
  | { readonly kind: 'mkdir'; readonly path: string }
  /** Copies a payload file (a path outside the host root) to a node path, through a temp file and a rename. */
  | { readonly kind: 'copyFile'; readonly from: string; readonly path: string; readonly mode: number }
  /**
   * Streams a component tarball (`.tar.zst`, outside the host root) and writes the listed members to node paths,
   * each through a temp file and a rename, and only when its content hashes to `sha256` (what was planned from).
   * With `archiveSha256` (the payload's SHA256SUMS) the archive itself is checked first.
   */
  | {
      readonly kind: 'extractFiles';
      readonly archive: string;
      readonly archiveSha256: string | undefined;
      readonly files: readonly {
        readonly member: string;
        readonly path: string;
        readonly mode: number;
        readonly sha256: string;
      }[];
    }
  | {
      readonly kind: 'writeFile';
      readonly path: string;
      readonly content: string;
      readonly mode: number;
      readonly reason: string;
    }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string }
  | { readonly kind: 'removeFile'; readonly path: string; readonly reason: string }
  | { readonly kind: 'removeTree'; readonly path: string; readonly reason: string }
  | { readonly kind: 'removeDirIfEmpty'; readonly path: string }
  /**
   * Records whether containerd's CRI plugin serves on its socket, before anything changes: the check after the
   * restart compares with it (a CRI that served before and does not after is a failed restart).
   */
  | { readonly kind: 'probeCri' }
  /**
   * Restarts the container runtime and waits until it answers. If it does not come back, `restore` (the files'
   * contents before this run; undefined = absent) is written back and the runtime restarted once more.
   */
  | {
      readonly kind: 'restartRuntime';
      readonly unit: string | undefined;
      readonly restore: readonly { readonly path: string; readonly content: string | undefined }[];
    }
  /**
   * The restart's verdict: containerd answers, its CRI plugin's runtime status and the effective configuration
   * (`config dump`, where it can be run) list (or no longer list) the handlers. A failed install restart is
   * undone here; a verdict that cannot be reached (CRI not serving) is reported, not guessed.
   */
  | {
      readonly kind: 'verifyHandlers';
      readonly handlers: readonly string[];
      readonly expect: 'present' | 'absent';
    }
  /** A plain service action, for snapshotter hooks and `reset`. */
  | {
      readonly kind: 'service';
      readonly action: 'start' | 'stop' | 'restart' | 'daemonReload' | 'enable' | 'disable';
      readonly unit: string;
      readonly ifActive?: boolean;
    }
  /**
   * While the snapshotter still runs: remove containerd's records of it that no workload needs (the cleanup
   * engine, then a doctor pass), or, when it does not answer, count its records in meta.db. The executor
   * records the verdict for `wipeSnapshotterData`. `socket` and `dataDir` are node paths.
   */
  | {
      readonly kind: 'cleanSnapshotterRecords';
      readonly snapshotter: string;
      readonly socket: string;
      readonly dataDir: string;
      /** Built into containerd (erofs): it answers when containerd does; its store is never wiped. */
      readonly builtIn?: boolean;
    }
  /**
   * Gated on the verdict this run recorded for `snapshotter`: wipe its data dir (mounts below it first) only
   * when containerd holds no record of it, checked once more now that it is stopped; otherwise keep the dir.
   */
  | {
      readonly kind: 'wipeSnapshotterData';
      readonly snapshotter: string;
      readonly socket: string;
      readonly dataDir: string;
    }
  /** Waits until containerd itself reaches the snapshotter (its proxy connection may sit in backoff). */
  | { readonly kind: 'waitSnapshotter'; readonly snapshotter: string; readonly timeoutMs: number };

export function describeStep(step: Step): string {
  switch (step.kind) {
    case 'writeState':
      return `record the install state (${step.state.phase})`;
    case 'removeState':
      return 'remove the install state';
    case 'mkdir':
      return `create directory ${step.path}`;
    case 'copyFile':
      return `install ${step.path} (mode ${step.mode.toString(8)})`;
    case 'extractFiles':
      return `install ${step.files.length} file(s) from ${step.archive}${step.archiveSha256 === undefined ? '' : ' (its sha256 checked first)'}, each checked against its sha256: ${step.files
        .slice(0, 4)
        .map((f) => f.path)
        .join(', ')}${step.files.length > 4 ? `, and ${step.files.length - 4} more` : ''}`;
    case 'writeFile':
      return `write ${step.path}: ${step.reason}`;
    case 'symlink':
      return `link ${step.path} -> ${step.target}`;
    case 'removeFile':
      return `remove ${step.path}: ${step.reason}`;
    case 'removeTree':
      return `remove ${step.path} and everything in it: ${step.reason}`;
    case 'removeDirIfEmpty':
      return `remove directory ${step.path} if empty`;
    case 'probeCri':
      return "record whether containerd's CRI plugin serves (the check after the restart compares with it)";
    case 'restartRuntime':
      return step.unit === undefined
        ? 'wait for containerd to pick up the configuration (the runtime reloads it itself)'
        : `restart ${step.unit} and wait until containerd answers`;
    case 'verifyHandlers':
      return `check that containerd ${step.expect === 'present' ? 'serves' : 'no longer serves'} ${step.handlers.join(', ')}`;
    case 'service':
      return `${step.action === 'daemonReload' ? 'reload service definitions' : `${step.action} ${step.unit}`}${step.ifActive ? ' (if active)' : ''}`;
    case 'cleanSnapshotterRecords':
      return step.builtIn
        ? `remove containerd's records of ${step.snapshotter} that no workload needs (built into containerd: its store stays containerd's)`
        : `remove containerd's records of ${step.snapshotter} that no workload needs, while it still runs (or count them in meta.db if it does not answer)`;
    case 'wipeSnapshotterData':
      return `wipe ${step.dataDir} only if no record of ${step.snapshotter} is left (previous step's verdict, checked again); otherwise keep it`;
    case 'waitSnapshotter':
      return `wait until containerd reaches ${step.snapshotter} (at most ${Math.round(step.timeoutMs / 1000)} s)`;
  }
}

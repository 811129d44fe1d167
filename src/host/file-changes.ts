/**
 * Wakes a waiter when a file is written, so a loop that re-reads the file after each change need not poll
 * it on a short timer. Built on inotify through fs.watch; where that is unavailable (no inotify watches
 * left, an exotic file system), `watchFileChanges` returns undefined and the caller polls.
 */
import { watch, type FSWatcher } from 'node:fs';

export interface FileChanges {
  /** Forget changes seen so far: call it just before reading the file. */
  arm(): void;
  /** Resolves true at the first change since `arm` (at once if one already came), false after `timeoutMs`. */
  next(timeoutMs: number): Promise<boolean>;
  close(): void;
}

export function watchFileChanges(path: string): FileChanges | undefined {
  let watcher: FSWatcher;
  let changed = false;
  let wake: (() => void) | undefined;
  try {
    watcher = watch(path, { persistent: false }, () => {
      changed = true;
      wake?.();
    });
  } catch {
    return undefined;
  }
  // A watch that dies (file removed, inotify queue overflow) must not take the process down; waiters then
  // fall back to their timeout.
  watcher.on('error', () => undefined);
  return {
    arm() {
      changed = false;
    },
    next(timeoutMs) {
      if (changed) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          wake = undefined;
          resolve(false);
        }, timeoutMs);
        wake = () => {
          clearTimeout(timer);
          wake = undefined;
          resolve(true);
        };
      });
    },
    close() {
      wake?.();
      watcher.close();
    },
  };
}

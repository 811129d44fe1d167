// Last-resort cleanup: if a test process exits (or is interrupted) with beds or registries still up, their
// synchronous cleanups run from here. Handlers are installed once, on first use.
const cleanups = new Set<() => void>();
let installed = false;

function runAll(): void {
  for (const cleanup of [...cleanups]) {
    cleanups.delete(cleanup);
    try {
      cleanup();
    } catch (error) {
      process.stderr.write(`test bed: cleanup at exit failed: ${String(error)}\n`);
    }
  }
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', runAll);
  for (const signal of SIGNALS) {
    process.once(signal, () => {
      runAll();
      // Handler was `once`: re-raising now takes the default action (terminate with that signal).
      process.kill(process.pid, signal);
    });
  }
}

/** Registers a synchronous cleanup for process exit; the returned function unregisters it. */
export function onExitCleanup(cleanup: () => void): () => void {
  install();
  cleanups.add(cleanup);
  return () => {
    cleanups.delete(cleanup);
  };
}

/**
 * Progress for long operations. On a terminal it redraws one status line on stderr; elsewhere (pipes, CI,
 * `--json`) it stays silent so machine-readable output is not mixed with it.
 */
export interface Progress {
  update(done: number, total: number | undefined, label: string): void;
  done(): void;
}

export const noProgress: Progress = { update() {}, done() {} };

export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return noProgress;
  let last = 0;
  let shown = false;
  return {
    update(done, total, label) {
      const now = Date.now();
      if (now - last < 80 && total !== undefined && done < total) return;
      last = now;
      const count = total === undefined ? `${done}` : `${done}/${total}`;
      stream.write(`\r\x1b[2K${label} ${count}`);
      shown = true;
    },
    done() {
      if (shown) stream.write('\r\x1b[2K');
      shown = false;
    },
  };
}

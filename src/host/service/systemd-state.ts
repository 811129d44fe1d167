/** What systemd's unit and job states mean for kata-deploy (pure, unit-tested). */

export interface UnitState {
  readonly loadState: string;
  readonly activeState: string;
  readonly subState: string;
  /** Services only. */
  readonly result?: string;
  /** CLD_* code of the main process's end (1 exited, 2 killed, 3 dumped). */
  readonly execMainCode?: number;
  readonly execMainStatus?: number;
}

/**
 * A job that ended "done" did what was asked; "skipped" means there was nothing to do (a stop of a unit that was
 * not running). Anything else ("failed", "dependency", "timeout", "canceled", "invalid") is a failure.
 */
export function jobSucceeded(result: string): boolean {
  return result === 'done' || result === 'skipped';
}

/**
 * Running, or on its way up or down: anything but inactive and failed. A unit waiting to be restarted
 * (`activating (auto-restart)`) counts, so a stop is not skipped while it would come back.
 */
export function isActiveState(activeState: string): boolean {
  return activeState !== 'inactive' && activeState !== 'failed' && activeState !== '';
}

const EXIT_CODES: Readonly<Record<number, string>> = {
  1: 'exited with status',
  2: 'was killed by signal',
  3: 'dumped core on signal',
};

/** One line: `containerd.service: failed (Result=exit-code; main process exited with status 1)`. */
export function describeUnitState(unit: string, s: UnitState): string {
  if (s.loadState !== 'loaded') return `${unit}: ${s.loadState} (no unit file systemd could load)`;
  const parts = [`${unit}: ${s.activeState} (${s.subState})`];
  const details: string[] = [];
  if (s.result !== undefined && s.result !== 'success') details.push(`Result=${s.result}`);
  const how = s.execMainCode === undefined ? undefined : EXIT_CODES[s.execMainCode];
  if (how !== undefined && !(s.execMainCode === 1 && s.execMainStatus === 0)) {
    details.push(`main process ${how} ${s.execMainStatus}`);
  }
  if (details.length > 0) parts.push(`: ${details.join('; ')}`);
  return parts.join('');
}

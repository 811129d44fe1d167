/**
 * Where a convergence test kills kata-deploy: after every step that is not one of the many payload copies, and
 * after the first and last of each run of those (after every step with KATA_DEPLOY_TEST_EVERY_STEP=1). Steps
 * are numbered from 1, as KATA_DEPLOY_TEST_CRASH_AFTER_STEP counts them; the last step is left out (killed
 * after it, the run is complete).
 */
export interface PlannedStep {
  readonly kind: string;
  readonly path?: string;
}

export const EVERY_STEP = process.env['KATA_DEPLOY_TEST_EVERY_STEP'] === '1';

export function crashPoints(steps: readonly PlannedStep[], everyStep = EVERY_STEP): number[] {
  const artifact = (i: number) =>
    ['mkdir', 'copyFile', 'symlink'].includes(steps[i]?.kind ?? '') ||
    steps[i]?.path?.startsWith('/opt/kata') === true;
  return steps
    .map((_, i) => i)
    .filter(
      (i) => i < steps.length - 1 && (everyStep || !artifact(i) || !artifact(i - 1) || !artifact(i + 1)),
    )
    .map((i) => i + 1);
}

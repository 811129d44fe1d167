/**
 * Restart and verify. Before anything changes, install records whether containerd's CRI plugin serves; the
 * restart goes through the service manager and waits until containerd answers; the check gathers the sources
 * the verdict rests on (containerd answers, CRI's runtime status, `containerd config dump`) and lets verdict.ts
 * decide. A failed restart (containerd does not come back, or CRI served before and does not serve the handlers
 * after) is undone: the files this run changed are written back and containerd restarted once more, and the
 * step fails with what was restored and why. An unknown verdict is returned, not thrown: the run finishes and
 * reports it.
 */
import { HostError, PartialApplyError } from '../../errors/index.js';
import type { Host } from '../../host/index.js';
import type { Names } from '../../names/index.js';
import type { Logger } from '../../output/log.js';
import { askContainerd, askCri, criLoadErrors } from './ask.js';
import { dumpHandlers } from './config-dump.js';
import { judgeRestart, type CriObservation, type Expectation, type RestartVerification } from './verdict.js';

export type RestoreSet = readonly { readonly path: string; readonly content: string | undefined }[];

export interface Verifier {
  /** Before anything changes: whether CRI serves on containerd's socket (install's verdict compares to it). */
  recordCriBefore(): Promise<CriObservation>;
  restart(unit: string | undefined, restore: RestoreSet): Promise<void>;
  /** Throws on a negative verdict (after undoing a failed restart); returns positive and unknown ones. */
  verify(handlers: readonly string[], expect: Expectation): Promise<RestartVerification>;
}

export interface VerifierOptions {
  readonly host: Host;
  readonly names: Names;
  readonly log: Logger;
  /** containerd binary for `config dump`; without one that source does not apply. */
  readonly containerdBinary: string | undefined;
  readonly timeoutMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function createVerifier(options: VerifierOptions): Verifier {
  const { host, names, log } = options;
  const socket = names.containerd.socket;
  let criBefore: CriObservation | undefined;
  /** The restart this run made, so a failed one can be undone. */
  let restarted: { unit: string | undefined; restore: RestoreSet } | undefined;

  /** Polls Version until containerd answers; the reason it did not, otherwise. */
  async function waitAnswer(ms: number): Promise<string | undefined> {
    const deadline = Date.now() + ms;
    let last = 'no answer';
    while (Date.now() < deadline) {
      const answer = await askContainerd(host, socket, Math.min(2000, Math.max(200, deadline - Date.now())));
      if (answer.state === 'answers') return undefined;
      last = answer.reason;
      await sleep(200);
    }
    return `containerd did not answer on ${socket} within ${ms} ms (${last})`;
  }

  async function restartOnce(unit: string | undefined): Promise<string | undefined> {
    if (unit !== undefined) {
      try {
        await host.services.daemonReload();
        await host.services.restart(unit);
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    }
    return waitAnswer(options.timeoutMs);
  }

  /** containerd's own words for a CRI plugin that does not serve: introspection, else its log. */
  async function whyCriDoesNotServe(unit: string | undefined): Promise<string> {
    const errors = await criLoadErrors(host, socket);
    if (errors.length > 0) return errors.join('; ');
    if (unit === undefined) return '';
    const log = await host.services.describeFailure(unit);
    const lines = log.split('\n').filter((l) => /failed to load plugin[^\n]*cri/i.test(l));
    return lines.slice(-3).join('\n');
  }

  /**
   * Writes the restore set back and restarts once more; then waits until containerd answers and, when it did
   * before this run, CRI serves again. Always throws: the step failed, and the message says what was undone.
   */
  async function rollBack(unit: string | undefined, restore: RestoreSet, failure: string): Promise<never> {
    for (const { path, content } of restore) {
      if (content === undefined) await host.remove(path);
      else await host.writeAtomic(path, content);
    }
    const rewritten = restore.filter((r) => r.content !== undefined).map((r) => r.path);
    const removed = restore.filter((r) => r.content === undefined).map((r) => r.path);
    const undone = [
      rewritten.length > 0 ? `restored ${rewritten.join(', ')} to the content before this run` : '',
      removed.length > 0 ? `removed ${removed.join(', ')} (not there before this run)` : '',
    ]
      .filter((x) => x !== '')
      .join(' and ');
    const again = await restartOnce(unit);
    let outcome: string;
    if (again !== undefined) outcome = `but containerd did not come back either: ${again}`;
    else if (criBefore?.state !== 'serves') outcome = 'containerd answers again';
    else {
      const cri = await askCri(host, socket, Date.now() + options.timeoutMs);
      outcome =
        cri.state === 'serves'
          ? 'containerd answers and its CRI plugin serves again'
          : `containerd answers, but its CRI plugin does not serve again either (${cri.reason})`;
    }
    throw new PartialApplyError(`${failure}\n${undone}, then restarted ${unit ?? 'containerd'}: ${outcome}`, {
      input: names.containerd.configFile,
      hint: 'fix the cause above, then run kata-deploy install again',
    });
  }

  return {
    async recordCriBefore() {
      const answer = await askContainerd(host, socket, 3_000);
      criBefore =
        answer.state === 'answers'
          ? await askCri(host, socket, Date.now() + 3_000)
          : { state: 'failed', reason: `containerd does not answer: ${answer.reason}` };
      log.debug(
        `before the restart, CRI ${criBefore.state === 'serves' ? 'serves' : `does not serve (${criBefore.reason})`}`,
      );
      return criBefore;
    },

    async restart(unit, restore) {
      const started = Date.now();
      const failure = await restartOnce(unit);
      if (failure === undefined) {
        log.info(`${unit ?? 'containerd'} answered ${Date.now() - started} ms after the restart`);
        restarted = { unit, restore };
        return;
      }
      const why = unit === undefined ? '' : `\n${await host.services.describeFailure(unit)}`;
      if (restore.length === 0)
        throw new HostError(`containerd did not come back: ${failure}${why}`, { input: unit });
      await rollBack(
        unit,
        restore,
        `containerd did not come back with the new configuration: ${failure}${why}`,
      );
    },

    async verify(handlers, expect) {
      const containerd = await askContainerd(host, socket, 5_000);
      const cri =
        containerd.state === 'answers'
          ? await askCri(host, socket, Date.now() + Math.min(options.timeoutMs, 30_000))
          : undefined;
      const dump = await dumpHandlers(host, names, options.containerdBinary);
      const verification = judgeRestart({ expect, handlers, criBefore, containerd, cri, dump });
      const checked = verification.evidence.filter((e) => e.status === 'seen').map((e) => e.subject);
      if (verification.verdict === 'positive') {
        log.info(
          `containerd ${expect === 'present' ? 'serves' : 'no longer serves'} ${handlers.join(', ')} (seen: ${checked.join(', ')})`,
        );
        return verification;
      }
      if (verification.verdict === 'unknown') {
        log.warn(
          `cannot tell whether containerd ${expect === 'present' ? 'serves' : 'no longer serves'} the handlers: ${verification.missing.join('; ')}`,
        );
        return verification;
      }
      const why = containerd.state === 'answers' ? await whyCriDoesNotServe(restarted?.unit) : '';
      const failure = `${verification.against.join('; ')}${why ? `\ncontainerd says: ${why}` : ''}`;
      if (verification.rollback && restarted !== undefined && restarted.restore.length > 0) {
        await rollBack(
          restarted.unit,
          restarted.restore,
          `containerd restarted with the new configuration, but ${failure}`,
        );
      }
      throw new HostError(failure, {
        input: names.containerd.configFile,
        hint: 'check containerd’s log for configuration errors',
      });
    },
  };
}

/**
 * The node lock under stress: N processes take it M times each, while holders are killed -9 at random moments
 * (from outside) and at every point inside the lock code (KATA_DEPLOY_TEST_FAULT=lock.<point>). Killed workers
 * are replaced until every slot has done its M acquisitions. Must hold: never two holders at once (overlaps 0),
 * and no deadlock (every waiter gets the lock; a worker that waits 60 s fails the test).
 *
 * KATA_DEPLOY_LOCK_STRESS=<N>x<M> changes the size (default 6x450, the 2,700 acquisitions of the report that found the defects); KATA_DEPLOY_FAULT_SEED replays a run.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCK_WORKER, type WorkerArgs } from './lock-worker.js';
import { announceSeed, rngFor } from './seed.js';

const [PROCS, COUNT] = (/^(\d+)x(\d+)$/.exec(process.env['KATA_DEPLOY_LOCK_STRESS'] ?? '') ?? [0, 6, 450])
  .slice(1)
  .map(Number) as [number, number];
/** Kills from outside, at random moments (the workers also die at the lock's own points, see POINTS). */
const OUTSIDE_KILLS = 20;
const POINTS = ['lock.opened', 'lock.locked', 'lock.written', 'lock.unlinked'];

let dir: string;
after(async () => dir && rm(dir, { recursive: true, force: true }));

const lines = async (path: string) =>
  (await readFile(path, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '');

describe('node lock stress', () => {
  it(`${PROCS} processes x ${COUNT} acquisitions, holders killed -9 at random points: no overlap, no deadlock`, async (t) => {
    announceSeed('lock stress');
    const rng = rngFor('lock-stress');
    dir = await mkdtemp(join(tmpdir(), 'kd-lock-stress-'));
    const args: Omit<WorkerArgs, 'count'> = {
      lock: join(dir, 'run/lock/kata-deploy.lock'),
      marker: join(dir, 'inside'),
      entries: join(dir, 'entries'),
      overlaps: join(dir, 'overlaps'),
      holdMaxMs: 2,
    };
    await writeFile(args.entries, '');
    const live = new Set<ChildProcess>();
    const killedAt: string[] = [];
    let failure: string | undefined;

    const runSlot = async (slot: number): Promise<void> => {
      let remaining = COUNT;
      for (let gen = 0; remaining > 0 && failure === undefined; gen++) {
        const fault =
          gen < 3 ? `${rng.pick(POINTS)}@${rng.int(1, Math.max(1, Math.min(remaining, 60)))}` : '';
        const child = spawn(
          process.execPath,
          ['--import', 'tsx', LOCK_WORKER, JSON.stringify({ ...args, count: remaining })],
          { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, KATA_DEPLOY_TEST_FAULT: fault } },
        );
        live.add(child);
        let stderr = '';
        child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
        const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
          child.once('exit', (c, s) => resolve([c, s])),
        );
        live.delete(child);
        const done = (await lines(args.entries)).filter((l) => l.startsWith(`${child.pid} `)).length;
        remaining -= done;
        if (signal === 'SIGKILL') {
          killedAt.push(stderr.match(/killed at (\S+)/)?.[1] ?? 'outside');
          continue;
        }
        if (code !== 0 || remaining !== 0)
          failure = `slot ${slot} worker ${child.pid} exited ${code ?? signal} with ${remaining} to go:\n${stderr}`;
      }
    };

    const started = Date.now();
    const slots = Array.from({ length: PROCS }, (_, i) => runSlot(i));
    // Kill random live workers from outside at random moments while the slots run.
    let running = true;
    const killer = (async () => {
      for (let kills = 0; running && kills < OUTSIDE_KILLS;) {
        await new Promise((r) => setTimeout(r, rng.int(100, 600)));
        const victims = [...live];
        if (victims.length > 0 && running) {
          rng.pick(victims).kill('SIGKILL');
          kills++;
        }
      }
    })();
    const timeout = setTimeout(() => {
      failure ??= 'deadlock: the workers did not finish within 240 s';
      for (const c of live) c.kill('SIGKILL');
    }, 240_000);
    await Promise.all(slots);
    running = false;
    clearTimeout(timeout);
    await killer;

    const acquisitions = (await lines(args.entries)).length;
    const overlaps = await lines(args.overlaps);
    const report = `${PROCS} processes, ${acquisitions} acquisitions, ${overlaps.length} overlaps, ${killedAt.length} holders killed -9 (${killedAt.filter((k) => k === 'outside').length} from outside, the rest at ${[...new Set(killedAt.filter((k) => k !== 'outside'))].join(', ')}), ${((Date.now() - started) / 1000).toFixed(1)} s`;
    t.diagnostic(report);
    process.stdout.write(`# lock stress: ${report}\n`);
    assert.equal(failure, undefined, failure);
    assert.deepEqual(overlaps, [], 'two holders at once');
    assert.ok(acquisitions >= PROCS * COUNT);
    assert.ok(killedAt.length > 0);
  });
});

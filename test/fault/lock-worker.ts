/**
 * One process of the lock stress test: takes the node lock `count` times. Inside, it claims a marker file
 * (link(2), which fails when it exists); finding another live process's marker there means two holders at once, an overlap, written to the
 * overlaps log. Every entry is appended to the entries log (the acquisitions counted).
 * Run as `node --import tsx lock-worker.ts '<json>'`.
 */
import { appendFileSync, linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { acquireLock } from '../../src/host/lock.js';
import { identify } from '../../src/host/proc.js';

export interface WorkerArgs {
  readonly lock: string;
  readonly marker: string;
  readonly entries: string;
  readonly overlaps: string;
  readonly count: number;
  readonly holdMaxMs: number;
}

export const LOCK_WORKER = new URL(import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function markerPid(path: string): number | undefined {
  try {
    return Number(readFileSync(path, 'utf8')) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Claims the marker; true when another holder was inside at the same time. Only a holder touches the marker,
 * so while this process holds the lock, a marker that vanishes (its owner left) proves an overlap; one whose
 * owner is dead was left by a holder killed inside and is stale.
 */
async function enter(a: WorkerArgs): Promise<boolean> {
  // Written whole, then linked in: the marker is never seen empty.
  const temp = `${a.marker}.${process.pid}`;
  writeFileSync(temp, String(process.pid));
  try {
    let liveOwner = false;
    for (let tries = 0; ; tries++) {
      try {
        linkSync(temp, a.marker);
        return liveOwner;
      } catch {
        // present
      }
      const pid = markerPid(a.marker);
      if (pid === undefined) return true;
      if (identify(pid) === undefined) {
        try {
          unlinkSync(a.marker);
        } catch {
          return true;
        }
        liveOwner = false;
        continue;
      }
      // A killed holder releases the lock a moment before /proc shows it dead; a live one stays.
      liveOwner = true;
      if (tries > 40) return true;
      await sleep(5);
    }
  } finally {
    unlinkSync(temp);
  }
}

async function main(a: WorkerArgs): Promise<void> {
  for (let i = 0; i < a.count; i++) {
    const lock = await acquireLock(a.lock, { waitMs: 60_000, pollMs: 4 });
    const overlapped = await enter(a);
    appendFileSync(a.entries, `${process.pid} ${i}\n`);
    if (overlapped) appendFileSync(a.overlaps, `${process.pid} ${i} entered\n`);
    if (a.holdMaxMs > 0) await sleep(Math.random() * a.holdMaxMs);
    if (markerPid(a.marker) !== process.pid) appendFileSync(a.overlaps, `${process.pid} ${i} marker taken\n`);
    try {
      unlinkSync(a.marker);
    } catch {
      appendFileSync(a.overlaps, `${process.pid} ${i} marker gone\n`);
    }
    await lock.release();
  }
}

if (process.argv[1] === LOCK_WORKER) await main(JSON.parse(process.argv[2]!) as WorkerArgs);

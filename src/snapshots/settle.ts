/**
 * Waits for containerd's GC to sweep what a round left unreferenced. We ask for a collection right away
 * (otherwise the scheduler may pause for seconds after its last one) but need not wait for all of it: after
 * sweeping the records, containerd also deletes the backend's data. With meta.db we watch the sweep directly
 * (cheap file reads, no backend calls) and go on as soon as the expected records are gone, leaving the
 * collection to finish in containerd; if the sweep stalls, or without meta.db, we wait for the collection.
 */
import type { ContainerdClient } from '../containerd/api/index.js';
import type { FileChanges } from '../host/file-changes.js';
import { collectGarbage } from './apply.js';
import type { MetaRecordIndex, MetaRecordReader } from './observe.js';

export interface SettleOptions {
  /** Pause between two reads of meta.db when nothing tells us it changed. @default 20 (100 with `changes`) */
  pollMs?: number;
  /** How long the set of expected records may stay unchanged before we wait for a full GC. @default 5000 */
  stallMs?: number;
  /** Wakes the wait as soon as meta.db is written, so a read follows each commit instead of a timer. */
  changes?: FileChanges | undefined;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface Settled {
  ended: 'swept' | 'full-gc';
  /** The read of meta.db that showed the sweep, for the caller's next observation. */
  index: MetaRecordIndex | undefined;
  reads: number;
}

/**
 * `expected`: per namespace, keys that should disappear. A read of meta.db that fails (containerd kept
 * committing through it) only means no news: the wait goes on, bounded by `stallMs` like any other.
 */
export async function settle(
  client: ContainerdClient,
  expected: Map<string, string[]>,
  readMeta: MetaRecordReader | undefined,
  options: SettleOptions = {},
): Promise<Settled> {
  const changes = options.changes;
  const pollMs = options.pollMs ?? (changes ? 100 : 20);
  const stallMs = options.stallMs ?? 5_000;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? delay;
  // Changes from here on count: the collection's own commits are what we wait for.
  changes?.arm();
  // Started, not awaited yet: each settles when containerd's collection is complete, backend included.
  const stopWaiting = new AbortController();
  const collections = [...expected.keys()].map((ns) =>
    collectGarbage(client, ns, stopWaiting.signal).then(
      () => undefined,
      (error: unknown) => error,
    ),
  );
  let reads = 0;
  if (readMeta) {
    let last = -1;
    let lastMoved = now();
    while (now() - lastMoved < stallMs) {
      // Wait first: the sweep cannot be in meta.db before containerd has committed something.
      if (changes) await changes.next(pollMs);
      else await sleep(pollMs);
      changes?.arm();
      reads++;
      const index = await readMeta().catch(() => undefined);
      if (!index) continue;
      let present = 0;
      for (const [ns, keys] of expected) {
        const records = index.get(ns);
        for (const key of keys) if (records?.has(key)) present++;
      }
      if (present === 0) {
        // The collection goes on in containerd; only our wait for it ends.
        stopWaiting.abort();
        await Promise.all(collections);
        return { ended: 'swept', index, reads };
      }
      if (present !== last) lastMoved = now();
      last = present;
    }
  }
  const failure = (await Promise.all(collections)).find((e) => e !== undefined);
  if (failure !== undefined) throw failure;
  return { ended: 'full-gc', index: undefined, reads };
}

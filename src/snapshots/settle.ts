/**
 * Waits for containerd's GC to sweep what a round left unreferenced. We ask for a collection right away
 * (otherwise the scheduler may pause for seconds after its last one) but need not wait for all of it: after
 * sweeping the records, containerd also deletes the backend's data. With meta.db we watch the sweep directly
 * (cheap file reads, no backend calls) and go on as soon as the expected records are gone, leaving the
 * collection to finish in containerd; if the sweep stalls, or without meta.db, we wait for the collection.
 */
import type { ContainerdClient } from '../containerd/api/index.js';
import { collectGarbage } from './apply.js';
import type { MetaRecordReader } from './observe.js';

export interface SettleOptions {
  pollMs?: number;
  /** How long the set of expected records may stay unchanged before we wait for a full GC. @default 5000 */
  stallMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `expected`: per namespace, keys that should disappear. Returns how the wait ended. */
export async function settle(
  client: ContainerdClient,
  expected: Map<string, string[]>,
  readMeta: MetaRecordReader | undefined,
  options: SettleOptions = {},
): Promise<'swept' | 'full-gc'> {
  const pollMs = options.pollMs ?? 20;
  const stallMs = options.stallMs ?? 5_000;
  const sleep = options.sleep ?? delay;
  // Started, not awaited yet: each settles when containerd's collection is complete, backend included.
  const stopWaiting = new AbortController();
  const collections = [...expected.keys()].map((ns) =>
    collectGarbage(client, ns, stopWaiting.signal).then(
      () => undefined,
      (error: unknown) => error,
    ),
  );
  if (readMeta) {
    let last = -1;
    let unchangedFor = 0;
    while (unchangedFor < stallMs) {
      const index = await readMeta();
      let present = 0;
      for (const [ns, keys] of expected) {
        const records = index.get(ns);
        for (const key of keys) if (records?.has(key)) present++;
      }
      if (present === 0) {
        // The collection goes on in containerd; only our wait for it ends.
        stopWaiting.abort();
        await Promise.all(collections);
        return 'swept';
      }
      unchangedFor = present === last ? unchangedFor + pollMs : 0;
      last = present;
      await sleep(pollMs);
    }
  }
  const failure = (await Promise.all(collections)).find((e) => e !== undefined);
  if (failure !== undefined) throw failure;
  return 'full-gc';
}

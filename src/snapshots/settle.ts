/**
 * Waits for containerd's GC to sweep what a round left unreferenced. We ask for a collection right away
 * (otherwise the scheduler may pause for seconds after its last one), but do not wait for the whole of it:
 * after sweeping its records containerd also deletes the backend's data, which we need not wait for. With
 * meta.db we watch the sweep directly (cheap file reads, no backend calls) and go on as soon as the expected
 * records are gone; if it stalls, or without meta.db, we wait for a full collection.
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

/** How long to wait on the GC we trigger before watching meta.db instead. */
const TRIGGER_WAIT_MS = 150;

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
  const namespaces = [...expected.keys()];
  if (readMeta) {
    for (const ns of namespaces) await collectGarbage(client, ns, TRIGGER_WAIT_MS);
    let last = -1;
    let unchangedFor = 0;
    while (unchangedFor < stallMs) {
      const index = await readMeta();
      let present = 0;
      for (const [ns, keys] of expected) {
        const records = index.get(ns);
        for (const key of keys) if (records?.has(key)) present++;
      }
      if (present === 0) return 'swept';
      unchangedFor = present === last ? unchangedFor + pollMs : 0;
      last = present;
      await sleep(pollMs);
    }
  }
  for (const ns of namespaces) await collectGarbage(client, ns);
  return 'full-gc';
}

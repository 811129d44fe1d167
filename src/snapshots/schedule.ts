/**
 * Runs snapshot removals leaf first with bounded concurrency. A key starts as soon as all of its children in
 * the plan are gone, so chains proceed in parallel; a failure holds back its ancestors.
 */
import type { NamespacePlan, RemainReason, RemainingSnapshot } from './types.js';

export type RemoveOutcome = { kind: 'removed' } | { kind: 'gone' } | { kind: 'failed'; reason: RemainReason };

export interface ScheduleResult {
  removed: number;
  gone: number;
  remaining: RemainingSnapshot[];
}

export async function removeLeafFirst(
  plan: Pick<NamespacePlan, 'removalOrder' | 'parents'>,
  remove: (key: string) => Promise<RemoveOutcome>,
  concurrency: number,
  onDone: (key: string, outcome: RemoveOutcome) => void = () => {},
): Promise<ScheduleResult> {
  const waiting = new Map<string, number>();
  for (const key of plan.removalOrder) waiting.set(key, 0);
  for (const parent of plan.parents.values()) waiting.set(parent, (waiting.get(parent) ?? 0) + 1);

  const ready = plan.removalOrder.filter((k) => waiting.get(k) === 0);
  const remaining: RemainingSnapshot[] = [];
  const blocked = new Set<string>();
  let removed = 0;
  let gone = 0;
  let next = 0;

  const blockAncestors = (key: string): void => {
    let child = key;
    let parent = plan.parents.get(key);
    while (parent !== undefined && !blocked.has(parent)) {
      blocked.add(parent);
      remaining.push({ key: parent, reason: { kind: 'parent-of-remaining', child } });
      child = parent;
      parent = plan.parents.get(parent);
    }
  };

  const worker = async (): Promise<void> => {
    while (next < ready.length) {
      const key = ready[next++] as string;
      const outcome = await remove(key);
      onDone(key, outcome);
      if (outcome.kind === 'failed') {
        remaining.push({ key, reason: outcome.reason });
        blockAncestors(key);
        continue;
      }
      if (outcome.kind === 'removed') removed++;
      else gone++;
      const parent = plan.parents.get(key);
      if (parent === undefined || blocked.has(parent)) continue;
      const left = (waiting.get(parent) ?? 1) - 1;
      waiting.set(parent, left);
      if (left === 0) ready.push(parent);
    }
  };

  // Workers that find the queue empty end; a finishing worker may refill it, so loop until quiet.
  while (next < ready.length) {
    const n = Math.max(1, Math.min(concurrency, ready.length - next));
    await Promise.all(Array.from({ length: n }, worker));
  }
  return { removed, gone, remaining: remaining.sort((a, b) => a.key.localeCompare(b.key)) };
}

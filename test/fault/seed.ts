/**
 * The fault suites' randomness: one seed per run, printed, replayed with KATA_DEPLOY_FAULT_SEED=<n>. Each
 * suite derives its own generator from the seed and its name, so adding a case to one does not reshuffle
 * the others.
 */
import { randomInt } from 'node:crypto';

const fromEnv = process.env['KATA_DEPLOY_FAULT_SEED'];
export const SEED = fromEnv !== undefined && /^\d+$/.test(fromEnv) ? Number(fromEnv) : randomInt(2 ** 31);

export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  /** `n` distinct items, in their original order. */
  sample<T>(items: readonly T[], n: number): T[];
}

/** mulberry32, seeded from SEED and a name. */
export function rngFor(name: string): Rng {
  let a = SEED;
  for (const c of name) a = Math.imul(a ^ c.charCodeAt(0), 2654435761) >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  return {
    next,
    int,
    pick: (items) => items[int(0, items.length - 1)]!,
    sample(items, n) {
      const idx = items.map((_, i) => i);
      for (let i = idx.length - 1; i > 0; i--) {
        const j = int(0, i);
        [idx[i], idx[j]] = [idx[j]!, idx[i]!];
      }
      return idx
        .slice(0, n)
        .sort((x, y) => x - y)
        .map((i) => items[i]!);
    },
  };
}

export function announceSeed(suite: string): void {
  process.stdout.write(`# ${suite}: fault seed ${SEED} (replay with KATA_DEPLOY_FAULT_SEED=${SEED})\n`);
}

/**
 * `STARTUP_TAINTS` (pure): taints the node was registered with to keep workloads off it until Kata serves
 * there, removed once the node is labelled. Each entry is `key` (every effect) or `key:effect`.
 */
import { isQualifiedName } from './names.js';
import { TAINT_EFFECTS, type Taint } from './types.js';

export interface StartupTaint {
  readonly key: string;
  /** Undefined: the key with any effect. */
  readonly effect: string | undefined;
}

export type ParsedTaints =
  | { readonly ok: true; readonly value: readonly StartupTaint[] }
  | { readonly ok: false; readonly accepted: string };

/** Entries separated by commas or whitespace. */
export function parseStartupTaints(raw: string): ParsedTaints {
  const accepted = `entries "key" or "key:effect" separated by commas or spaces, the effect one of ${TAINT_EFFECTS.join(', ')}`;
  const out: StartupTaint[] = [];
  for (const entry of raw.split(/[\s,]+/).filter((s) => s !== '')) {
    const colon = entry.lastIndexOf(':');
    const key = colon === -1 ? entry : entry.slice(0, colon);
    const effect = colon === -1 ? undefined : entry.slice(colon + 1);
    if (!isQualifiedName(key))
      return { ok: false, accepted: `${accepted}; ${JSON.stringify(key)} is not a taint key` };
    if (effect !== undefined && !(TAINT_EFFECTS as readonly string[]).includes(effect))
      return { ok: false, accepted: `${accepted}; ${JSON.stringify(entry)} is not one` };
    if (!out.some((t) => t.key === key && t.effect === effect)) out.push({ key, effect });
  }
  return { ok: true, value: out };
}

export function isStartupTaint(taint: Taint, startup: readonly StartupTaint[]): boolean {
  return startup.some((s) => s.key === taint.key && (s.effect === undefined || s.effect === taint.effect));
}

/** The node's taints without the startup ones; undefined when none of them is there (nothing to write). */
export function withoutStartupTaints(
  taints: readonly Taint[],
  startup: readonly StartupTaint[],
): Taint[] | undefined {
  const kept = taints.filter((t) => !isStartupTaint(t, startup));
  return kept.length === taints.length ? undefined : kept;
}

export function describeTaint(t: StartupTaint | Taint): string {
  return t.effect === undefined ? t.key : `${t.key}:${t.effect}`;
}

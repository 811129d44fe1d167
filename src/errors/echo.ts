/**
 * How error lines quote a value the operator gave: JSON-quoted, with every character a terminal could act on
 * escaped, and cut to a length a person can read. A 100k-character variable is shown as its first
 * `ECHO_LIMIT` characters, an ellipsis and its total length.
 */

/** The most characters of a value an error line quotes. */
export const ECHO_LIMIT = 200;

/**
 * Control characters (C0, DEL, C1 such as U+0085 NEL), line and paragraph separators, and the bidirectional
 * formatting characters that can reorder what a terminal shows.
 */
const UNSAFE_TO_SHOW = /[\p{Cc}\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

const escapeChar = (ch: string): string => `\\u${ch.codePointAt(0)!.toString(16).padStart(4, '0')}`;

/** `"value"`, or `"first 200 characters…" (100000 characters)` when the value is longer than `limit`. */
export function quoteValue(value: string, limit = ECHO_LIMIT): string {
  const chars = [...value];
  const shown = chars.length > limit ? chars.slice(0, limit).join('') : value;
  const quoted = JSON.stringify(shown).replace(UNSAFE_TO_SHOW, escapeChar);
  return chars.length > limit ? `${quoted.slice(0, -1)}…" (${chars.length} characters)` : quoted;
}

/** Shortens, inside a message someone else composed, every quoted run longer than `limit` characters. */
export function shortenQuoted(message: string, limit = ECHO_LIMIT): string {
  return message.replace(/(['"])([^'"\n]{1,})\1/g, (whole, quote: string, inner: string) => {
    const chars = [...inner];
    if (chars.length <= limit) return whole.replace(UNSAFE_TO_SHOW, escapeChar);
    const head = chars.slice(0, limit).join('').replace(UNSAFE_TO_SHOW, escapeChar);
    return `${quote}${head}…${quote} (${chars.length} characters)`;
  });
}

/**
 * Entries added to and removed from a root-level TOML array (`imports = [ … ]`) as text, touching nothing but
 * the entry and the one separator next to it. Adding then removing an entry gives back the same bytes, in
 * any order and with any other install's entries in between, which a patcher that re-renders the array
 * cannot promise (`imports = [ ]  # none` would come back as `imports = []`).
 *
 * Pure and conservative: anything it does not read with certainty (nested arrays, inline tables, a key it
 * cannot find in the root section) gives undefined, and the caller falls back to the patcher. The caller also
 * checks that the result parses to what it intended.
 */
import { formatString } from './toml.js';

interface Span {
  readonly start: number;
  readonly end: number;
}

/** Where the array of root key `key` is: its brackets and each element, in order. */
interface ArrayText {
  readonly open: number;
  readonly close: number;
  readonly elements: readonly Span[];
}

/**
 * Adds `entry` as the array's last element: on a line of its own when the array is written one element per
 * line with a trailing comma, otherwise after the last element (`[ "a" ]` → `[ "a", "b" ]`).
 */
export function appendEntryText(text: string, key: string, entry: string): string | undefined {
  const array = findRootArray(text, key);
  if (array === undefined) return undefined;
  const last = array.elements.at(-1);
  if (last === undefined) return insert(text, array.open + 1, formatString(entry));
  const afterLast = text.slice(last.end, array.close);
  if (/^[ \t]*,[^\n]*\n/.test(afterLast)) {
    const lineEnd = text.indexOf('\n', last.end) + 1;
    return insert(text, lineEnd, `${indentOf(text, last.start)}${formatString(entry)},\n`);
  }
  return insert(text, last.end, `, ${formatString(entry)}`);
}

/**
 * Removes the array's element number `index` with what `appendEntryText` would have added with it: its own
 * line (`  "x",`), or the comma before it, or, for the first of several, the comma and blanks after it.
 */
export function removeEntryText(text: string, key: string, index: number): string | undefined {
  const array = findRootArray(text, key);
  const element = array?.elements[index];
  if (array === undefined || element === undefined) return undefined;
  const lineStart = text.lastIndexOf('\n', element.start - 1) + 1;
  const ownLine = /^[ \t]*,[ \t]*\n/.exec(text.slice(element.end));
  if (ownLine !== null && /^[ \t]*$/.test(text.slice(lineStart, element.start))) {
    return `${text.slice(0, lineStart)}${text.slice(element.end + ownLine[0].length)}`;
  }
  const previous = array.elements[index - 1];
  const next = array.elements[index + 1];
  // Only separators may go with the element: a comment between two elements stays where it is.
  const [from, to] =
    previous !== undefined
      ? [previous.end, element.end]
      : next !== undefined
        ? [element.start, next.start]
        : [element.start, element.end];
  const separator =
    previous !== undefined
      ? text.slice(previous.end, element.start)
      : next !== undefined
        ? text.slice(element.end, next.start)
        : '';
  if (separator !== '' && !/^\s*,\s*$/.test(separator)) return undefined;
  return `${text.slice(0, from)}${text.slice(to)}`;
}

function insert(text: string, at: number, inserted: string): string {
  return `${text.slice(0, at)}${inserted}${text.slice(at)}`;
}

function indentOf(text: string, at: number): string {
  const lineStart = text.lastIndexOf('\n', at - 1) + 1;
  return /^[ \t]*/.exec(text.slice(lineStart, at))![0];
}

/** The array assigned to `key` in the root section (before the first table header), if it is plain. */
function findRootArray(text: string, key: string): ArrayText | undefined {
  const header = /^[ \t]*\[/m;
  const keyPattern = new RegExp(
    `^[ \\t]*(?:${escape(key)}|"${escape(key)}"|'${escape(key)}')[ \\t]*=[ \\t]*\\[`,
    'm',
  );
  const match = keyPattern.exec(text);
  if (match === null) return undefined;
  const firstHeader = header.exec(text);
  if (firstHeader !== null && firstHeader.index < match.index) return undefined;
  return scanArray(text, match.index + match[0].length - 1);
}

function escape(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Reads the array whose `[` is at `open`: elements are strings, numbers, booleans or dates, not nested. */
function scanArray(text: string, open: number): ArrayText | undefined {
  const elements: Span[] = [];
  let i = open + 1;
  let expectValue = true;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r') i++;
    else if (ch === '#') i = lineEnd(text, i);
    else if (ch === ',') {
      if (expectValue) return undefined;
      expectValue = true;
      i++;
    } else if (ch === ']') return { open, close: i, elements };
    else if (ch === '[' || ch === '{' || !expectValue) return undefined;
    else {
      const end = ch === '"' || ch === "'" ? stringEnd(text, i) : bareEnd(text, i);
      if (end === undefined) return undefined;
      elements.push({ start: i, end });
      expectValue = false;
      i = end;
    }
  }
  return undefined;
}

function lineEnd(text: string, from: number): number {
  const nl = text.indexOf('\n', from);
  return nl === -1 ? text.length : nl;
}

/** The end of the quoted string starting at `from` (basic or literal, single- or multi-line). */
function stringEnd(text: string, from: number): number | undefined {
  const quote = text[from]!;
  const triple = text.startsWith(quote.repeat(3), from);
  const delimiter = triple ? quote.repeat(3) : quote;
  for (let i = from + delimiter.length; i < text.length; i++) {
    if (quote === '"' && text[i] === '\\') {
      i++;
      continue;
    }
    if (!triple && text[i] === '\n') return undefined;
    if (text.startsWith(delimiter, i)) {
      let end = i + delimiter.length;
      // A multi-line string may end in up to two quotes of its own before the closing three.
      while (triple && text[end] === quote && end - i < 5) end++;
      return end;
    }
  }
  return undefined;
}

function bareEnd(text: string, from: number): number | undefined {
  let i = from;
  while (i < text.length && !/[\s,\]#]/.test(text[i]!)) i++;
  return i > from ? i : undefined;
}

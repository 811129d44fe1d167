/**
 * Line-based three-way merge, used to take kata-deploy's edit out of a file the user changed after install:
 * the user's changes (written → current) are replayed on the original, as `diff3` would. A merge that
 * touches the same lines on both sides is refused, and the caller falls back to a key-by-key undo.
 */

interface Hunk {
  /** Replaced range [start, end) of the base lines. */
  readonly start: number;
  readonly end: number;
  readonly lines: readonly string[];
}

const MAX_CELLS = 4_000_000;

/** Hunks turning `a` into `b`, from a longest-common-subsequence table; undefined when too large. */
function diffLines(a: readonly string[], b: readonly string[]): Hunk[] | undefined {
  const n = a.length;
  const m = b.length;
  if ((n + 1) * (m + 1) > MAX_CELLS) return undefined;
  const width = m + 1;
  const lcs = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * width + j] =
        a[i] === b[j]
          ? lcs[(i + 1) * width + j + 1]! + 1
          : Math.max(lcs[(i + 1) * width + j]!, lcs[i * width + j + 1]!);
    }
  }
  const hunks: Hunk[] = [];
  let i = 0;
  let j = 0;
  let open: { start: number; lines: string[] } | undefined;
  const close = (end: number) => {
    if (open) hunks.push({ start: open.start, end, lines: open.lines });
    open = undefined;
  };
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      close(i);
      i++;
      j++;
    } else if (j < m && (i === n || lcs[i * width + j + 1]! >= lcs[(i + 1) * width + j]!)) {
      open ??= { start: i, lines: [] };
      open.lines.push(b[j]!);
      j++;
    } else {
      open ??= { start: i, lines: [] };
      i++;
    }
  }
  close(i);
  return hunks;
}

function conflict(x: Hunk, y: Hunk): boolean {
  // At the same line, an insertion goes before a replacement; two replacements or two insertions collide.
  if (x.start === y.start) return (x.start === x.end) === (y.start === y.end);
  if (x.start < y.end && y.start < x.end) return true;
  // An insertion strictly inside the other's range.
  return (
    (x.start === x.end && y.start < x.start && x.start < y.end) ||
    (y.start === y.end && x.start < y.start && y.start < x.end)
  );
}

export function split(text: string): string[] {
  return text.split(/(?<=\n)/);
}

/**
 * Applies to `original` the changes that turned `written` into `current`: the result is what the file would be
 * if the user had made their changes to the original. Undefined when the changes overlap kata-deploy's own.
 */
export function mergeUserChanges(original: string, written: string, current: string): string | undefined {
  const base = split(written);
  const ours = diffLines(base, split(original)); // undoes kata-deploy's edit
  const theirs = diffLines(base, split(current)); // the user's changes since
  if (ours === undefined || theirs === undefined) return undefined;
  const same = (x: Hunk, y: Hunk) =>
    x.start === y.start &&
    x.end === y.end &&
    x.lines.length === y.lines.length &&
    x.lines.every((l, i) => l === y.lines[i]);
  // A change both sides made (the user undid kata-deploy's lines themselves) is applied once.
  const theirsOnly = theirs.filter((y) => !ours.some((x) => same(x, y)));
  for (const x of ours) for (const y of theirsOnly) if (conflict(x, y)) return undefined;
  const all = [...ours, ...theirsOnly].sort(
    (p, q) => p.start - q.start || p.end - p.start - (q.end - q.start),
  );
  const out: string[] = [];
  let at = 0;
  for (const h of all) {
    out.push(...base.slice(at, h.start), ...h.lines);
    at = h.end;
  }
  out.push(...base.slice(at));
  return out.join('');
}

/** A line as far as layout goes: runs of blanks are one space, none at either end (the newline dropped). */
const layoutKey = (line: string): string => line.replace(/\s+/g, ' ').trim();

/**
 * `edited` with every line that differs from a line of `original` only in its blanks (indentation, trailing
 * spaces, tabs) given back as `original` wrote it: a format-preserving patcher still re-indents and trims lines
 * it did not need to touch. The caller checks that the result still means what `edited` means.
 */
export function keepOriginalLayout(original: string, edited: string): string | undefined {
  const a = split(original);
  const b = split(edited);
  const hunks = diffLines(a.map(layoutKey), b.map(layoutKey));
  if (hunks === undefined) return undefined;
  const out: string[] = [];
  let i = 0;
  let j = 0;
  for (const h of hunks) {
    for (; i < h.start; i++, j++) out.push(sameEnding(a[i]!, b[j]!));
    out.push(...b.slice(j, j + h.lines.length));
    j += h.lines.length;
    i = h.end;
  }
  for (; i < a.length; i++, j++) out.push(sameEnding(a[i]!, b[j]!));
  return out.join('');
}

/** The original line, with the edited line's ending (a last line may have gained or lost its newline). */
function sameEnding(original: string, edited: string): string {
  const body = original.replace(/\r?\n$/, '');
  const ending = /\r?\n$/.exec(edited)?.[0] ?? '';
  return original.endsWith('\n') && ending !== '' ? original : `${body}${ending}`;
}

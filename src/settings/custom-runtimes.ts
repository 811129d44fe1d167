/**
 * `custom-runtimes.list`, upstream's format: one custom runtime a line, `handler:baseConfig:snapshotter:crioPullType`
 * (the last two may be empty or left out). Pure: a bad line is refused with the file, the line number, the line
 * and what is accepted there, before anything is read from or written to the node.
 */
import { quoteValue, UsageError } from '../errors/index.js';
import { isSnapshotterName } from './parse.js';
import { isKnownShim } from './shims.js';

export interface CustomRuntimeLine {
  readonly handler: string;
  readonly baseConfig: string;
  readonly snapshotter: string | undefined;
  readonly crioPullType: string | undefined;
  /** 1-based line number in the file. */
  readonly line: number;
}

/** A RuntimeClass handler is a DNS label (RFC 1123): lowercase letters, digits and inner `-`, at most 63. */
const HANDLER = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const FORMAT = 'handler:baseConfig[:snapshotter[:crioPullType]]';

/**
 * Parses the list. `reserved` maps the handler names kata-deploy derives itself (`kata-<shim>[-<sfx>]` and
 * their `-debug`/`-devkit` variants) to what they are, so a custom handler never shadows one of them.
 */
export function parseCustomRuntimesList(
  text: string,
  file: string,
  reserved: ReadonlyMap<string, string>,
): CustomRuntimeLine[] {
  const out: CustomRuntimeLine[] = [];
  const seen = new Map<string, number>();
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const bad = (expected: string): never => {
      throw new UsageError(
        `${file} line ${line}: ${quoteValue(trimmed)} is not valid: expected ${expected}`,
        {
          input: file,
          hint: `fix line ${line} of ${file} (one custom runtime a line: ${FORMAT}); nothing was changed on the node`,
        },
      );
    };
    const parts = trimmed.split(':').map((p) => p.trim());
    if (parts.length > 4) bad(`at most four fields, ${FORMAT}`);
    const [handler = '', baseConfig = '', snapshotter = '', pullType = ''] = parts;
    if (!HANDLER.test(handler))
      bad(
        `a handler name first: lowercase letters, digits and inner "-", at most 63 characters (a RuntimeClass handler), in ${FORMAT}`,
      );
    const theirs = reserved.get(handler);
    if (theirs !== undefined)
      bad(`a handler kata-deploy does not derive itself; ${quoteValue(handler)} is ${theirs}`);
    const earlier = seen.get(handler);
    if (earlier !== undefined) bad(`each handler once; ${quoteValue(handler)} is on line ${earlier} too`);
    if (baseConfig === '') bad(`a baseConfig (the shim whose configuration it starts from) in ${FORMAT}`);
    if (!isKnownShim(baseConfig)) bad(`a baseConfig that names a shim; ${quoteValue(baseConfig)} is not one`);
    if (snapshotter !== '' && !isSnapshotterName(snapshotter))
      bad(
        `a snapshotter name (letters, digits, "_", ".", "-") or nothing; ${quoteValue(snapshotter)} is not one`,
      );
    if (pullType !== '' && pullType !== 'guest-pull')
      bad(`"guest-pull" or nothing as the CRI-O pull type; ${quoteValue(pullType)} is not`);
    seen.set(handler, line);
    out.push({
      handler,
      baseConfig,
      snapshotter: snapshotter === '' ? undefined : snapshotter,
      crioPullType: pullType === '' ? undefined : pullType,
      line,
    });
  });
  return out;
}

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { appendEntryText, removeEntryText } from './array-text.js';
import { parseToml } from './toml.js';

const A = '/opt/kata/containerd/config.d/kata-deploy.toml';
const B = '/opt/kata-coco/containerd/config.d/kata-deploy.toml';

/** `imports` as operators write it: one line or one entry per line, blanks, tabs, comments, trailing commas. */
const blank = fc.constantFrom('', ' ', '  ', '\t');
const entry = fc.constantFrom(
  "'/etc/containerd/site.toml'",
  '"/etc/containerd/conf.d/*.toml"',
  '"/etc/x.toml"',
);
const importsText = fc.oneof(
  fc
    .record({
      inner: blank,
      items: fc.array(entry, { maxLength: 3 }),
      sep: fc.constantFrom(', ', ',', ' , '),
      comma: fc.boolean(),
      after: fc.constantFrom('', '  # site', '\t'),
    })
    .map(
      ({ inner, items, sep, comma, after }) =>
        `imports = [${inner}${items.join(sep)}${items.length > 0 && comma ? ',' : ''}${inner}]${after}\n`,
    ),
  fc
    .record({
      indent: fc.constantFrom('  ', '\t', '    '),
      items: fc.array(entry, { minLength: 1, maxLength: 3 }),
      trailing: blank,
      comment: fc.constantFrom('', ' # mine'),
      last: fc.boolean(),
    })
    .map(
      ({ indent, items, trailing, comment, last }) =>
        `imports = [\n${items.map((e, i) => `${indent}${e}${i < items.length - 1 || last ? ',' : ''}${trailing}${i === 0 ? comment : ''}\n`).join('')}]\n`,
    ),
);
const config = importsText.map(
  (imports) => `version = 3\n${imports}\n[grpc]\t \n\taddress = '/run/containerd/containerd.sock'  \n`,
);

const imports = (text: string) => parseToml(text, 'c.toml')['imports'] as string[];
const remove = (text: string, entry: string) =>
  removeEntryText(text, 'imports', imports(text).indexOf(entry));

describe('array entries as text', () => {
  it('appends after the last entry, or on a line of its own in a one-per-line list', () => {
    assert.equal(appendEntryText('imports = []\n', 'imports', A), `imports = ["${A}"]\n`);
    assert.equal(
      appendEntryText("imports = [ '/x' ]  # c\n", 'imports', A),
      `imports = [ '/x', "${A}" ]  # c\n`,
    );
    assert.equal(
      appendEntryText("imports = [\n  '/x', # c\n]\n", 'imports', A),
      `imports = [\n  '/x', # c\n  "${A}",\n]\n`,
    );
    assert.equal(appendEntryText('[grpc]\nimports = []\n', 'imports', A), undefined, 'not a root key');
    assert.equal(appendEntryText('imports = [[1], 2]\n', 'imports', A), undefined, 'nested');
  });

  it('removes exactly what it added, whichever of two installs goes first', () => {
    fc.assert(
      fc.property(config, fc.boolean(), (text, firstOut) => {
        const withA = appendEntryText(text, 'imports', A)!;
        const both = appendEntryText(withA, 'imports', B)!;
        assert.deepEqual(imports(both), [...imports(text), A, B]);
        const [first, second] = firstOut ? [A, B] : [B, A];
        const one = remove(both, first)!;
        assert.deepEqual(imports(one), [...imports(text), second]);
        assert.equal(remove(one, second), text);
        assert.ok(one.endsWith("[grpc]\t \n\taddress = '/run/containerd/containerd.sock'  \n"));
      }),
      { numRuns: 400, seed: 4242 },
    );
  });

  it('leaves a comment between two entries to the patcher', () => {
    assert.equal(removeEntryText(`imports = ["/x", # mine\n "${A}"]\n`, 'imports', 1), undefined);
  });
});

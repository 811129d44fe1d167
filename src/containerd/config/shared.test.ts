import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { ConfigEdit, EditRecord } from './edit.js';
import { editPresent, otherDropInPresent, sinceOriginal, withoutValues } from './shared.js';
import { parseToml } from './toml.js';

const A = '/opt/kata/containerd/config.d/kata-deploy.toml';
const B = '/opt/kata-coco/containerd/config.d/kata-deploy.toml';
const importOf = (entry: string): ConfigEdit => ({
  tables: [],
  values: [],
  arrayEntries: [{ path: ['imports'], entry }],
});
const doc = (text: string) => parseToml(text, 'config.toml');

describe('editPresent', () => {
  it('sees an install’s import entry or table, and not its values', () => {
    assert.equal(editPresent(doc(`imports = ['${A}', '${B}']`), importOf(B)), true);
    assert.equal(editPresent(doc(`imports = ['${A}']`), importOf(B)), false);
    assert.equal(editPresent(doc('version = 3'), importOf(B)), false);
    const table: ConfigEdit = {
      tables: [{ path: ['plugins', 'x', 'runtimes', 'kata-qemu'], body: { runtime_type: 'x' } }],
      values: [{ path: ['version'], value: 3 }],
      arrayEntries: [],
    };
    assert.equal(editPresent(doc("[plugins.x.runtimes.kata-qemu]\nruntime_type = 'x'"), table), true);
    assert.equal(editPresent(doc('version = 3'), table), false, 'a shared value is no part of one install');
  });
});

describe('otherDropInPresent', () => {
  it('sees another install’s drop-in in our list, not ours, not the operator’s entries', () => {
    assert.equal(otherDropInPresent(doc(`imports = ['${A}', '${B}']`), importOf(A)), true);
    assert.equal(
      otherDropInPresent(doc(`imports = ['/x/opt/kata/containerd/config.d/kata-deploy.toml']`), importOf(A)),
      true,
    );
    assert.equal(otherDropInPresent(doc(`imports = ['${A}']`), importOf(A)), false);
    assert.equal(
      otherDropInPresent(
        doc("imports = ['/etc/containerd/conf.d/*.toml', '/etc/kata-deploy.toml']"),
        importOf(A),
      ),
      false,
    );
    assert.equal(otherDropInPresent(doc('version = 3'), importOf(A)), false);
  });
});

describe('sinceOriginal', () => {
  const record = (createdArray: boolean): EditRecord => ({
    createdTables: [],
    replaced: [],
    addedEntries: [{ path: ['imports'], entry: B, createdArray }],
  });

  it('an array the original lacks was created by kata-deploy, whoever found it first', () => {
    assert.equal(sinceOriginal(record(false), 'version = 3\n', 'f').addedEntries[0]?.createdArray, true);
    assert.equal(sinceOriginal(record(false), '', 'f').addedEntries[0]?.createdArray, true);
  });

  it('an array the original has stays the operator’s', () => {
    assert.equal(sinceOriginal(record(false), 'imports = []\n', 'f').addedEntries[0]?.createdArray, false);
    assert.equal(sinceOriginal(record(true), 'imports = []\n', 'f').addedEntries[0]?.createdArray, true);
  });

  it('never turns a created array into the operator’s (property)', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.constantFrom('', 'version = 3\n', "imports = ['/x.toml']\n"),
        (created, original) => {
          const out = sinceOriginal(record(created), original, 'f').addedEntries[0]!.createdArray;
          assert.equal(out, created || !original.includes('imports'));
        },
      ),
      { seed: 12 },
    );
  });
});

describe('withoutValues', () => {
  it('keeps tables and entries, drops values', () => {
    const edit: ConfigEdit = { ...importOf(A), values: [{ path: ['version'], value: 3 }] };
    assert.deepEqual(withoutValues(edit), importOf(A));
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderReport } from './render.js';
import type { CheckReport } from './types.js';

const report: CheckReport = {
  verdict: 'capable',
  capable: true,
  message: 'System is capable of running Kata Containers',
  arch: 'amd64',
  vendor: 'intel',
  root: true,
  hypervisors: { checked: ['qemu'], usable: ['qemu'] },
  checks: [
    { id: 'a', status: 'pass', message: 'fine' },
    { id: 'b', status: 'warn', message: 'hmm', hint: 'do this' },
    { id: 'c', status: 'skip', message: 'skipped' },
  ],
  notes: ['a note'],
};

test('without --verbose only WARN and FAIL lines, the notes and the verdict', () => {
  assert.equal(
    renderReport(report, false),
    'WARN  hmm (do this)\nNOTE  a note\nSystem is capable of running Kata Containers',
  );
});

test('with --verbose every check', () => {
  assert.equal(
    renderReport(report, true),
    'PASS  fine\nWARN  hmm (do this)\nSKIP  skipped\nNOTE  a note\nSystem is capable of running Kata Containers',
  );
});

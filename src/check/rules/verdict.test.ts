import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Finding, Hypervisor } from '../types.js';
import { decideVerdict } from './verdict.js';

const all: Hypervisor[] = ['qemu', 'clh', 'dragonball', 'firecracker'];
const f = (status: Finding['status'], extra: Partial<Finding> = {}): Finding => ({
  id: 'x',
  status,
  message: 'm',
  ...extra,
});

test('no problems: capable with every candidate', () => {
  const v = decideVerdict([f('pass'), f('warn'), f('skip')], all);
  assert.deepEqual(v, {
    verdict: 'capable',
    usable: all,
    message: 'System is capable of running Kata Containers',
  });
});

test('a FAIL rules out everything', () => {
  const v = decideVerdict([f('pass'), f('fail')], all);
  assert.equal(v.verdict, 'not-capable');
  assert.deepEqual(v.usable, []);
  assert.equal(v.message, 'System is not capable of running Kata Containers');
});

test('WARNs with blocks rule out the hypervisors they name; all blocked is not capable', () => {
  const some = decideVerdict([f('warn', { blocks: ['qemu'] })], all);
  assert.deepEqual(some.usable, ['clh', 'dragonball', 'firecracker']);
  assert.equal(
    some.message,
    'System is capable of running Kata Containers with clh, dragonball, firecracker (not with qemu)',
  );
  const none = decideVerdict(
    [f('warn', { blocks: ['qemu', 'clh'] }), f('warn', { blocks: ['dragonball', 'firecracker'] })],
    all,
  );
  assert.equal(none.verdict, 'not-capable');
});

test('an undecided finding makes the verdict unknown, unless something already failed', () => {
  const unknown = decideVerdict([f('warn', { undecided: true, message: 'no probe' })], ['qemu']);
  assert.equal(unknown.verdict, 'unknown');
  assert.match(unknown.message, /no probe$/);
  assert.equal(decideVerdict([f('warn', { undecided: true }), f('fail')], ['qemu']).verdict, 'not-capable');
});

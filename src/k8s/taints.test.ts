import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseStartupTaints, withoutStartupTaints } from './taints.js';

describe('STARTUP_TAINTS', () => {
  it('parses key and key:effect entries separated by commas or spaces', () => {
    const r = parseStartupTaints('kata.io/not-ready:NoSchedule, example.com/x  plain');
    assert.ok(r.ok);
    assert.deepEqual(r.value, [
      { key: 'kata.io/not-ready', effect: 'NoSchedule' },
      { key: 'example.com/x', effect: undefined },
      { key: 'plain', effect: undefined },
    ]);
    assert.deepEqual(parseStartupTaints(''), { ok: true, value: [] });
  });

  it('refuses a bad key or effect, naming it', () => {
    const effect = parseStartupTaints('a:Sometimes');
    assert.ok(!effect.ok);
    assert.match(effect.accepted, /"a:Sometimes" is not one/);
    const key = parseStartupTaints('-bad-:NoSchedule');
    assert.ok(!key.ok);
    assert.match(key.accepted, /"-bad-" is not a taint key/);
  });

  it('removes exactly the startup taints: a key alone matches every effect', () => {
    const taints = [
      { key: 'a', effect: 'NoSchedule' },
      { key: 'a', effect: 'NoExecute' },
      { key: 'b', effect: 'NoSchedule', value: 'v' },
    ];
    assert.deepEqual(withoutStartupTaints(taints, [{ key: 'a', effect: 'NoExecute' }]), [
      taints[0],
      taints[2],
    ]);
    assert.deepEqual(withoutStartupTaints(taints, [{ key: 'a', effect: undefined }]), [taints[2]]);
    assert.equal(withoutStartupTaints(taints, [{ key: 'c', effect: undefined }]), undefined);
  });

  it('never throws and keeps every taint it does not name (property)', () => {
    fc.assert(
      fc.property(fc.string(), (raw) => {
        const r = parseStartupTaints(raw);
        if (!r.ok) return;
        const taints = [{ key: 'not-in-list.example/zz-keep', effect: 'NoSchedule' }];
        const out = withoutStartupTaints(taints, r.value) ?? taints;
        assert.deepEqual(out, taints);
      }),
    );
  });
});

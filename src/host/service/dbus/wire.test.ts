import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { splitSignature, WireError, WireReader, WireWriter, type DBusValue } from './wire.js';

function roundTrip(signature: string, values: DBusValue[], base = 0): DBusValue[] {
  const w = new WireWriter(base);
  w.write(signature, values);
  const bytes = w.bytes();
  return new WireReader(Buffer.concat([Buffer.alloc(base), bytes]), true, base, 0).read(signature);
}

describe('D-Bus wire format', () => {
  it('splits signatures into complete types', () => {
    assert.deepEqual(splitSignature('sa{sv}(ii)as'), ['s', 'a{sv}', '(ii)', 'as']);
    assert.deepEqual(splitSignature('a(sasbttt)'), ['a(sasbttt)']);
    for (const bad of ['a', '(', '(ii', '{sv}', 'a{vs}', 'a{sss}', '()', 'z']) {
      assert.throws(() => splitSignature(bad), WireError, bad);
    }
  });

  it('marshals exactly as the specification lays out bytes (little-endian, padding from the message start)', () => {
    const w = new WireWriter(0);
    w.write('yus', [7, 0x01020304, 'ab']);
    assert.deepEqual([...w.bytes()], [7, 0, 0, 0, 4, 3, 2, 1, 2, 0, 0, 0, 0x61, 0x62, 0]);
    const arr = new WireWriter(0);
    arr.write('at', [[1n]]); // length, then padding to 8 before the first element
    assert.deepEqual([...arr.bytes()], [8, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
    const empty = new WireWriter(0);
    empty.write('a(ii)', [[]]); // an empty array still pads to its element's alignment
    assert.deepEqual([...empty.bytes()], [0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('reads what it writes, at any starting offset', () => {
    const values: DBusValue[] = [
      true,
      -5,
      'unit.service',
      '/org/freedesktop/systemd1/job/20',
      [['ActiveState', { signature: 's', value: 'active' }]],
      [1, '/o', 'done'],
      { signature: 'at', value: [1n, 2n] },
    ];
    for (const base of [0, 1, 3, 8]) assert.deepEqual(roundTrip('bnsoa{sv}(uos)v', values, base), values);
  });

  it('reads big-endian messages too', () => {
    const buf = Buffer.from([0, 0, 0, 2, 0x68, 0x69, 0, 0, 0, 0, 0, 5]);
    assert.deepEqual(new WireReader(buf, false).read('su'), ['hi', 5]);
  });

  it('refuses truncated input, bad padding, and values that do not fit their type', () => {
    assert.throws(() => new WireReader(Buffer.from([5, 0, 0, 0, 0x61]), true).read('s'), /truncated/);
    assert.throws(() => new WireReader(Buffer.from([1, 9, 9, 9, 1, 0, 0, 0]), true).read('yu'), /padding/);
    assert.throws(() => new WireReader(Buffer.from([2, 0, 0, 0]), true).read('b'), /boolean/);
    assert.throws(() => new WireWriter().write('y', [300]), WireError);
    assert.throws(() => new WireWriter().write('s', [5]), WireError);
    assert.throws(() => new WireWriter().write('ss', ['one']), /2 values/);
  });

  it('property: any value of a generated signature survives a round trip', () => {
    const basic = fc.oneof(
      fc.constant({ sig: 'y', arb: fc.integer({ min: 0, max: 255 }) as fc.Arbitrary<DBusValue> }),
      fc.constant({ sig: 'b', arb: fc.boolean() as fc.Arbitrary<DBusValue> }),
      fc.constant({ sig: 'n', arb: fc.integer({ min: -32768, max: 32767 }) as fc.Arbitrary<DBusValue> }),
      fc.constant({ sig: 'u', arb: fc.integer({ min: 0, max: 0xffffffff }) as fc.Arbitrary<DBusValue> }),
      fc.constant({
        sig: 'i',
        arb: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }) as fc.Arbitrary<DBusValue>,
      }),
      fc.constant({
        sig: 'x',
        arb: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }) as fc.Arbitrary<DBusValue>,
      }),
      fc.constant({ sig: 't', arb: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) as fc.Arbitrary<DBusValue> }),
      fc.constant({ sig: 'd', arb: fc.double() as fc.Arbitrary<DBusValue> }),
      fc.constant({
        sig: 's',
        arb: fc.string({ unit: 'grapheme' }).filter((s) => !s.includes('\0')) as fc.Arbitrary<DBusValue>,
      }),
    );
    const typed = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        basic,
        tie('array') as fc.Arbitrary<{ sig: string; arb: fc.Arbitrary<DBusValue> }>,
        tie('struct') as fc.Arbitrary<{ sig: string; arb: fc.Arbitrary<DBusValue> }>,
      ),
      array: (tie('node') as fc.Arbitrary<{ sig: string; arb: fc.Arbitrary<DBusValue> }>).map((t) => ({
        sig: `a${t.sig}`,
        arb: fc.array(t.arb, { maxLength: 4 }) as fc.Arbitrary<DBusValue>,
      })),
      struct: fc
        .array(tie('node') as fc.Arbitrary<{ sig: string; arb: fc.Arbitrary<DBusValue> }>, {
          minLength: 1,
          maxLength: 3,
        })
        .map((ts) => ({
          sig: `(${ts.map((t) => t.sig).join('')})`,
          arb: fc.tuple(...ts.map((t) => t.arb)) as fc.Arbitrary<DBusValue>,
        })),
    })).node;
    const sample = typed.chain((t) => fc.tuple(fc.constant(t.sig), t.arb, fc.integer({ min: 0, max: 7 })));
    fc.assert(
      fc.property(sample, ([sig, value, base]) => {
        assert.deepEqual(roundTrip(sig, [value], base), [value]);
      }),
      { numRuns: 300 },
    );
  });
});

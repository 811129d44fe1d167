import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { decodeGoTime, decodeVarint, decodeVarintNumber } from './codec.js';
import { goTime, goVarint } from './testing/fixture.js';

describe('decodeGoTime', () => {
  it('decodes Go time.MarshalBinary version 1 (15 bytes, UTC)', () => {
    // time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC).MarshalBinary()
    const bytes = Buffer.from('010000000eddc425c0075bcd15ffff', 'hex');
    assert.equal(decodeGoTime(bytes)?.toISOString(), '2024-05-01T12:00:00.123Z');
  });

  it('decodes version 2 (16 bytes, with offset seconds); the zone does not move the instant', () => {
    const v2 = Buffer.concat([Buffer.from('020000000eddc425c0075bcd15003c', 'hex'), Buffer.from([0])]);
    assert.equal(decodeGoTime(v2)?.toISOString(), '2024-05-01T12:00:00.123Z');
  });

  it('decodes the Go zero time', () => {
    assert.equal(decodeGoTime(goTime(new Date(-62135596800000)))?.getTime(), -62135596800000);
  });

  it('round-trips any millisecond instant', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1970-01-01'), max: new Date('2200-01-01'), noInvalidDate: true }),
        (d) => {
          assert.equal(decodeGoTime(goTime(d))?.getTime(), d.getTime());
        },
      ),
    );
  });

  it('rejects wrong lengths, versions and nanoseconds', () => {
    const ok = goTime(new Date());
    assert.equal(decodeGoTime(ok.subarray(0, 14)), undefined);
    assert.equal(decodeGoTime(Buffer.concat([ok, Buffer.from([0])])), undefined);
    assert.equal(decodeGoTime(Buffer.concat([Buffer.from([3]), ok.subarray(1)])), undefined);
    const badNanos = Buffer.from(ok);
    badNanos.writeInt32BE(1e9, 9);
    assert.equal(decodeGoTime(badNanos), undefined);
    assert.equal(decodeGoTime(new Uint8Array(0)), undefined);
  });
});

describe('decodeVarint', () => {
  it('decodes the containerd dbVersion values', () => {
    assert.equal(decodeVarintNumber(Buffer.from([0x06])), 3);
    assert.equal(decodeVarintNumber(Buffer.from([0x08])), 4);
  });

  it('round-trips every int64 through Go binary.PutVarint', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (n) => {
        assert.equal(decodeVarint(goVarint(n)), n);
      }),
    );
  });

  it('rejects empty, unterminated and overlong input', () => {
    assert.equal(decodeVarint(Buffer.alloc(0)), undefined);
    assert.equal(decodeVarint(Buffer.from([0x80, 0x80])), undefined);
    assert.equal(decodeVarint(Buffer.alloc(11, 0xff)), undefined);
    assert.equal(decodeVarint(Buffer.from([...Buffer.alloc(9, 0xff), 0x02])), undefined);
    assert.equal(decodeVarintNumber(goVarint(2n ** 60n)), undefined);
  });
});

describe('decodeKey', () => {
  it('returns the same text as Buffer for ASCII, UTF-8, long and colliding keys', async () => {
    const { decodeKey } = await import('./keys.js');
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.string({ maxLength: 40 }),
            fc.constantFrom('name', 'createdat', 'labels', 'é', 'a\u0000b'),
          ),
          { maxLength: 30 },
        ),
        (keys) => {
          for (const key of [...keys, ...keys]) {
            const buf = Buffer.concat([Buffer.from('xx'), Buffer.from(key, 'utf8'), Buffer.from('yy')]);
            assert.equal(decodeKey(buf, 2, buf.length - 2), buf.toString('utf8', 2, buf.length - 2));
          }
        },
      ),
    );
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeMessage,
  encodeMessage,
  MessageType,
  messageLength,
  takeMessages,
  type Message,
} from './message.js';
import { WireError } from './wire.js';

const call: Message = {
  type: MessageType.methodCall,
  flags: 0,
  serial: 7,
  path: '/org/freedesktop/systemd1',
  interface: 'org.freedesktop.systemd1.Manager',
  member: 'StartUnit',
  destination: 'org.freedesktop.systemd1',
  signature: 'ss',
  body: ['containerd.service', 'replace'],
};

describe('D-Bus messages and framing', () => {
  it('encodes a method call that decodes to the same message, header padded to 8', () => {
    const bytes = encodeMessage(call);
    assert.equal(bytes[0], 'l'.charCodeAt(0));
    assert.equal(bytes.readUInt32LE(4), 36, 'body length: two strings');
    assert.equal(messageLength(bytes), bytes.length);
    assert.deepEqual(decodeMessage(bytes), call);
  });

  it('round-trips a JobRemoved signal in the shape systemd sends it (no reply expected, uoss)', () => {
    const signal: Message = {
      type: MessageType.signal,
      flags: 1,
      serial: 312,
      path: '/org/freedesktop/systemd1',
      interface: 'org.freedesktop.systemd1.Manager',
      member: 'JobRemoved',
      signature: 'uoss',
      body: [20, '/org/freedesktop/systemd1/job/20', 'systemd-journald.service', 'done'],
    };
    assert.deepEqual(decodeMessage(encodeMessage(signal)), signal);
  });

  it('frames a stream cut at every byte: whole messages out, the rest kept', () => {
    const stream = Buffer.concat([
      encodeMessage(call),
      encodeMessage({ ...call, serial: 8, body: ['k3s.service', 'replace'] }),
    ]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const first = takeMessages(stream.subarray(0, cut));
      const second = takeMessages(Buffer.concat([first.rest, stream.subarray(cut)]));
      const all = [...first.messages, ...second.messages];
      assert.deepEqual(
        all.map((m) => m.serial),
        [7, 8],
        `cut at ${cut}`,
      );
      assert.equal(second.rest.length, 0);
    }
  });

  it('refuses what no peer could mean', () => {
    const bytes = encodeMessage(call);
    const badEndian = Buffer.from(bytes);
    badEndian[0] = 0x78;
    assert.throws(() => messageLength(badEndian), WireError);
    const badVersion = Buffer.from(bytes);
    badVersion[3] = 2;
    assert.throws(() => messageLength(badVersion), /protocol version/);
    const huge = Buffer.from(bytes);
    huge.writeUInt32LE(0x7fffffff, 4);
    assert.throws(() => messageLength(huge), /too long/);
    const shortBody = Buffer.from(bytes);
    shortBody.writeUInt32LE(3, 4);
    assert.throws(() => decodeMessage(shortBody), WireError);
  });

  it('property: random bodies of strings and integers survive encode → frame → decode', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string().filter((s) => !s.includes('\0')),
          { maxLength: 5 },
        ),
        fc.integer({ min: 1, max: 0xffffffff }),
        (strings, serial) => {
          const m: Message = { ...call, serial, signature: 'asu', body: [strings, serial] };
          const { messages, rest } = takeMessages(encodeMessage(m));
          assert.equal(rest.length, 0);
          assert.deepEqual(messages, [m]);
        },
      ),
    );
  });
});

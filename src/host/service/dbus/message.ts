/**
 * D-Bus messages: the fixed header, the header fields and the body, and how many bytes of a stream make one
 * whole message (framing). Pure: no I/O.
 */
import {
  MAX_MESSAGE_BYTES,
  WireError,
  WireReader,
  WireWriter,
  type DBusValue,
  type DBusVariant,
} from './wire.js';

export const MessageType = { methodCall: 1, methodReturn: 2, error: 3, signal: 4 } as const;
export type MessageTypeValue = (typeof MessageType)[keyof typeof MessageType];

export const NO_REPLY_EXPECTED = 0x1;

export interface Message {
  readonly type: MessageTypeValue;
  readonly flags: number;
  readonly serial: number;
  readonly path?: string;
  readonly interface?: string;
  readonly member?: string;
  readonly errorName?: string;
  readonly replySerial?: number;
  readonly destination?: string;
  readonly sender?: string;
  /** The body's signature; '' for no body. */
  readonly signature: string;
  readonly body: readonly DBusValue[];
}

const FIELDS = [
  [1, 'path', 'o'],
  [2, 'interface', 's'],
  [3, 'member', 's'],
  [4, 'errorName', 's'],
  [5, 'replySerial', 'u'],
  [6, 'destination', 's'],
  [7, 'sender', 's'],
  [8, 'signature', 'g'],
] as const;

/** Byte length of the fixed part: endianness, type, flags, version, body length, serial, fields length. */
const FIXED_HEADER = 16;

function padded8(n: number): number {
  return (n + 7) & ~7;
}

export function encodeMessage(m: Message): Buffer {
  const body = new WireWriter(0);
  if (m.signature !== '') body.write(m.signature, m.body);
  const bodyBytes = body.bytes();
  const fields: [number, DBusVariant][] = [];
  for (const [code, key, sig] of FIELDS) {
    const value = m[key];
    if (key === 'signature' && value === '') continue;
    if (value !== undefined) fields.push([code, { signature: sig, value }]);
  }
  const header = new WireWriter(0);
  header.write('yyyyuua(yv)', ['l'.charCodeAt(0), m.type, m.flags, 1, bodyBytes.length, m.serial, fields]);
  header.pad(8);
  const out = Buffer.concat([header.bytes(), bodyBytes]);
  if (out.length > MAX_MESSAGE_BYTES) throw new WireError(`a message of ${out.length} bytes is too long`);
  return out;
}

/**
 * The byte length of the message at the start of `buf`, or undefined when the first 16 bytes are not there
 * yet. Throws on a header no peer could have meant.
 */
export function messageLength(buf: Buffer): number | undefined {
  if (buf.length < FIXED_HEADER) return undefined;
  const le = endianOf(buf);
  if (buf[3] !== 1) throw new WireError(`protocol version ${buf[3]}, expected 1`);
  const bodyLength = le ? buf.readUInt32LE(4) : buf.readUInt32BE(4);
  const fieldsLength = le ? buf.readUInt32LE(12) : buf.readUInt32BE(12);
  const total = padded8(FIXED_HEADER + fieldsLength) + bodyLength;
  if (total > MAX_MESSAGE_BYTES) throw new WireError(`a message of ${total} bytes is too long`);
  return total;
}

function endianOf(buf: Buffer): boolean {
  const mark = String.fromCharCode(buf[0]!);
  if (mark !== 'l' && mark !== 'B') throw new WireError(`unknown byte order mark ${JSON.stringify(mark)}`);
  return mark === 'l';
}

/** Decodes one whole message (exactly `messageLength(buf)` bytes). */
export function decodeMessage(buf: Buffer): Message {
  const le = endianOf(buf);
  const header = new WireReader(buf, le, 0, 0);
  const [, type, flags, , bodyLength, serial, fields] = header.read('yyyyuua(yv)') as [
    number,
    number,
    number,
    number,
    number,
    number,
    [number, DBusVariant][],
  ];
  if (type < 1 || type > 4) throw new WireError(`unknown message type ${type}`);
  const out: Record<string, unknown> = { type, flags, serial, signature: '' };
  for (const [code, variant] of fields) {
    const known = FIELDS.find(([c]) => c === code);
    if (known === undefined) continue; // unknown fields are ignored, as the specification says
    if (variant.signature !== known[2]) {
      throw new WireError(`header field ${known[1]} has type "${variant.signature}", expected "${known[2]}"`);
    }
    out[known[1]] = variant.value;
  }
  header.align(8);
  const bodyStart = header.position;
  if (bodyStart + bodyLength !== buf.length) {
    throw new WireError(`body length ${bodyLength} does not match the message (${buf.length - bodyStart})`);
  }
  const signature = out['signature'] as string;
  const reader = new WireReader(buf, le, bodyStart, 0);
  const body = signature === '' ? [] : reader.read(signature);
  if (reader.position !== buf.length) throw new WireError('the body is longer than its signature');
  return { ...(out as unknown as Message), body };
}

/** Splits a stream buffer into whole messages; returns them and the bytes left over for the next read. */
export function takeMessages(buf: Buffer): { messages: Message[]; rest: Buffer } {
  const messages: Message[] = [];
  let at = 0;
  for (;;) {
    const length = messageLength(buf.subarray(at));
    if (length === undefined || at + length > buf.length) break;
    messages.push(decodeMessage(buf.subarray(at, at + length)));
    at += length;
  }
  return { messages, rest: buf.subarray(at) };
}

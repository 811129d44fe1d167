/**
 * A minimal D-Bus peer connection over a unix socket, for systemd's private socket (`/run/systemd/private`):
 * EXTERNAL authentication, method calls with a deadline each, and signals. No message bus is involved (no
 * Hello, no names): systemd answers on that socket itself and sends its signals to every connection on it.
 */
import { createConnection, type Socket } from 'node:net';
import { encodeMessage, MessageType, takeMessages, type Message } from './message.js';
import type { DBusValue } from './wire.js';

/** The peer answered a call with an error message (`org.freedesktop.systemd1.NoSuchUnit`, …). */
export class DBusRemoteError extends Error {
  override name = 'DBusRemoteError';
  constructor(
    readonly errorName: string,
    message: string,
  ) {
    super(message === '' ? errorName : `${message} (${errorName})`);
  }
}

/** The connection could not be made, failed, or a call ran out of time. */
export class DBusConnectionError extends Error {
  override name = 'DBusConnectionError';
}

export interface MethodCall {
  readonly destination?: string;
  readonly path: string;
  readonly interface: string;
  readonly member: string;
  readonly signature?: string;
  readonly body?: readonly DBusValue[];
}

type SignalListener = (message: Message) => void;

interface Pending {
  resolve(m: Message): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export class DBusConnection {
  private serial = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<SignalListener>();
  private buffered: Buffer = Buffer.alloc(0);
  private failure: Error | undefined;

  private constructor(
    private readonly socket: Socket,
    readonly address: string,
  ) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error) => this.fail(new DBusConnectionError(`${address}: ${error.message}`)));
    socket.on('close', () =>
      this.fail(new DBusConnectionError(`${address}: the peer closed the connection`)),
    );
    // An idle connection must not keep the process alive; a pending call keeps it alive through its timer.
    socket.unref();
  }

  /** Connects and authenticates (EXTERNAL, as this process's uid) within `timeoutMs`. */
  static async open(path: string, timeoutMs: number): Promise<DBusConnection> {
    const socket = createConnection({ path });
    const deadline = setTimeout(
      () => socket.destroy(new Error(`no answer within ${timeoutMs} ms while connecting`)),
      timeoutMs,
    );
    try {
      const leftover = await authenticate(socket);
      const connection = new DBusConnection(socket, path);
      if (leftover.length > 0) connection.receive(leftover);
      return connection;
    } catch (error) {
      socket.destroy();
      throw new DBusConnectionError(`${path}: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      clearTimeout(deadline);
    }
  }

  /** Calls a method and resolves with its reply; a D-Bus error reply rejects with DBusRemoteError. */
  call(call: MethodCall, timeoutMs: number): Promise<Message> {
    if (this.failure) return Promise.reject(this.failure);
    this.serial = (this.serial % 0xffffffff) + 1;
    const serial = this.serial;
    const bytes = encodeMessage({
      type: MessageType.methodCall,
      flags: 0,
      serial,
      path: call.path,
      interface: call.interface,
      member: call.member,
      destination: call.destination,
      signature: call.signature ?? '',
      body: call.body ?? [],
    });
    return new Promise<Message>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(serial);
        reject(
          new DBusConnectionError(
            `${call.interface}.${call.member} got no answer within ${timeoutMs} ms on ${this.address}`,
          ),
        );
      }, timeoutMs);
      this.pending.set(serial, { resolve, reject, timer });
      this.socket.write(bytes);
    });
  }

  /** Every signal the peer sends, until the returned function is called. */
  onSignal(listener: SignalListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.fail(new DBusConnectionError(`${this.address}: connection closed`));
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    let taken;
    try {
      taken = takeMessages(this.buffered);
    } catch (error) {
      this.fail(new DBusConnectionError(`${this.address}: unreadable message: ${String(error)}`));
      this.socket.destroy();
      return;
    }
    this.buffered = Buffer.from(taken.rest);
    for (const m of taken.messages) this.dispatch(m);
  }

  private dispatch(m: Message): void {
    if (m.type === MessageType.signal) {
      for (const listener of this.listeners) listener(m);
      return;
    }
    if (m.replySerial === undefined) return; // a call to us: nothing here is served
    const pending = this.pending.get(m.replySerial);
    if (pending === undefined) return;
    this.pending.delete(m.replySerial);
    clearTimeout(pending.timer);
    if (m.type === MessageType.error) {
      const text = typeof m.body[0] === 'string' ? m.body[0] : '';
      pending.reject(new DBusRemoteError(m.errorName ?? 'org.freedesktop.DBus.Error.Failed', text));
    } else pending.resolve(m);
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(error);
    }
    this.pending.clear();
  }
}

/** The SASL exchange: a NUL byte, AUTH EXTERNAL with our uid in hex and BEGIN, then OK. Returns bytes past OK. */
function authenticate(socket: Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let text = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      text = Buffer.concat([text, chunk]);
      const end = text.indexOf('\r\n');
      if (end < 0) {
        if (text.length > 4096) finish(new Error('the authentication answer is too long'));
        return;
      }
      const line = text.subarray(0, end).toString('latin1');
      if (!line.startsWith('OK ')) return finish(new Error(`authentication refused: ${line}`));
      finish(undefined, text.subarray(end + 2));
    };
    const onError = (error: Error) => finish(error);
    const onClose = () => finish(new Error('the peer closed the connection during authentication'));
    const finish = (error: Error | undefined, rest?: Buffer) => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
      if (error) reject(error);
      else resolve(rest ?? Buffer.alloc(0));
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.once('connect', () => {
      const uid = Buffer.from(String(process.getuid?.() ?? 0)).toString('hex');
      // BEGIN goes with AUTH, as sd-bus's own clients send it: systemd 252 can leave a first message unread
      // when BEGIN and that message reach it in one read (measured: 12 of 40 fresh connections got no answer).
      socket.write(Buffer.concat([Buffer.from([0]), Buffer.from(`AUTH EXTERNAL ${uid}\r\nBEGIN\r\n`)]));
    });
  });
}

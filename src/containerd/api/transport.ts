/**
 * The gRPC connection to containerd over its unix socket (containerd's services and, on the same socket, CRI's
 * RuntimeService). Every call carries a deadline and, for namespaced services, the `containerd-namespace`
 * header; every error leaves here converted by `fromGrpcError`.
 */
import { Client, credentials, Metadata } from '@grpc/grpc-js';
import { fromGrpcError } from './errors.js';
import { rpcLabel, serviceMethod, type ServiceName } from './proto.js';

/** Named timeouts, in one place. */
export const DEFAULT_TIMEOUTS = {
  /** A single request/response call. */
  call: 5_000,
  /** A whole server stream (listing every snapshot of a namespace). */
  stream: 60_000,
  /** The first call that proves the socket is containerd. */
  connect: 3_000,
} as const;

export interface CallOptions {
  /** containerd namespace sent in the `containerd-namespace` header. */
  namespace?: string;
  timeoutMs?: number;
  /** Cancels the call; the server is told, and the promise rejects with CancelledError. */
  signal?: AbortSignal;
}

const MAX_MESSAGE = 16 * 1024 * 1024;

export class Transport {
  readonly socket: string;
  readonly timeouts: { call: number; stream: number; connect: number };
  private channel: Client | undefined;
  private readonly target: string;
  /** Count of RPCs issued, for benches and progress. */
  calls = 0;

  constructor(
    socket: string,
    timeouts: { call?: number | undefined; stream?: number | undefined; connect?: number | undefined } = {},
  ) {
    this.socket = socket;
    this.target = `unix://${socket.startsWith('/') ? '' : '/'}${socket}`;
    this.timeouts = {
      call: timeouts.call ?? DEFAULT_TIMEOUTS.call,
      stream: timeouts.stream ?? DEFAULT_TIMEOUTS.stream,
      connect: timeouts.connect ?? DEFAULT_TIMEOUTS.connect,
    };
  }

  /** One channel for every service: methods are addressed by their full path. */
  private client(): Client {
    this.channel ??= new Client(this.target, credentials.createInsecure(), {
      'grpc.max_receive_message_length': MAX_MESSAGE,
      'grpc.max_send_message_length': MAX_MESSAGE,
      'grpc.default_authority': 'localhost',
      'grpc.enable_retries': 0,
    });
    return this.channel;
  }

  private metadata(namespace: string | undefined): Metadata {
    const md = new Metadata();
    if (namespace !== undefined) md.set('containerd-namespace', namespace);
    return md;
  }

  /** What every call needs before it goes out: its codec, its name for errors, its deadline. */
  private begin(service: ServiceName, method: string, stream: boolean, options: CallOptions) {
    const codec = serviceMethod(service, method);
    if (!codec) throw new Error(`no RPC ${service}/${method} in the proto subset`);
    if (codec.responseStream !== stream) {
      throw new Error(`RPC ${service}/${method} is ${stream ? 'not ' : ''}a server stream`);
    }
    const timeoutMs = options.timeoutMs ?? (stream ? this.timeouts.stream : this.timeouts.call);
    this.calls++;
    return {
      codec,
      rpc: rpcLabel(service, method),
      deadline: new Date(Date.now() + timeoutMs),
      metadata: this.metadata(options.namespace),
    };
  }

  unary<R>(service: ServiceName, method: string, request: unknown, options: CallOptions = {}): Promise<R> {
    const { codec, rpc, deadline, metadata } = this.begin(service, method, false, options);
    return new Promise<R>((resolve, reject) => {
      const call = this.client().makeUnaryRequest(
        codec.path,
        codec.serialize,
        codec.deserialize,
        request,
        metadata,
        { deadline },
        (error, response) => {
          options.signal?.removeEventListener('abort', cancel);
          if (error) reject(fromGrpcError(error, rpc, this.socket));
          else resolve(response as R);
        },
      );
      const cancel = (): void => call.cancel();
      if (options.signal?.aborted) call.cancel();
      else options.signal?.addEventListener('abort', cancel, { once: true });
    });
  }

  /** Collects a server stream; the deadline covers the whole stream. */
  stream<R>(service: ServiceName, method: string, request: unknown, options: CallOptions = {}): Promise<R[]> {
    const { codec, rpc, deadline, metadata } = this.begin(service, method, true, options);
    return new Promise<R[]>((resolve, reject) => {
      const out: R[] = [];
      const call = this.client().makeServerStreamRequest(
        codec.path,
        codec.serialize,
        codec.deserialize,
        request,
        metadata,
        { deadline },
      );
      call.on('data', (message: R) => out.push(message));
      call.on('error', (error) => reject(fromGrpcError(error, rpc, this.socket)));
      call.on('end', () => resolve(out));
    });
  }

  close(): void {
    this.channel?.close();
    this.channel = undefined;
  }
}

/**
 * containerd's error classes (github.com/containerd/errdefs) as TypeScript classes. The gRPC edge converts
 * once (`fromGrpcError`); callers test the class, never the text, and the message keeps containerd's words.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { ExitCode, KataDeployError, type ErrorDetails } from '../../errors/index.js';

export class ContainerdError extends KataDeployError {
  override readonly exitCode: (typeof ExitCode)[keyof typeof ExitCode] = ExitCode.negative;
  /** The gRPC status code containerd answered with. */
  readonly grpcCode: number;
  /** The RPC, e.g. `snapshots.Remove`. */
  readonly rpc: string;

  constructor(message: string, rpc: string, grpcCode: number, details: ErrorDetails = {}) {
    super(message, details);
    this.rpc = rpc;
    this.grpcCode = grpcCode;
  }
}

export class NotFoundError extends ContainerdError {}
export class AlreadyExistsError extends ContainerdError {}
export class FailedPreconditionError extends ContainerdError {}
export class InvalidArgumentError extends ContainerdError {}
/** The target (containerd itself, or a snapshotter behind it) cannot be reached right now. */
export class UnavailableError extends ContainerdError {}
export class DeadlineExceededError extends ContainerdError {}
export class PermissionDeniedError extends ContainerdError {}
export class UnimplementedError extends ContainerdError {}
export class UnknownContainerdError extends ContainerdError {}
/** The server gave up on the call, typically because the caller's deadline passed on its side first. */
export class CancelledError extends ContainerdError {}

/** containerd itself cannot be reached on its socket, or what answers there is not containerd. */
export class ContainerdUnreachableError extends KataDeployError {
  override readonly exitCode = ExitCode.usage;
}

type ErrorClass = new (
  message: string,
  rpc: string,
  grpcCode: number,
  details?: ErrorDetails,
) => ContainerdError;

const byCode = new Map<number, ErrorClass>([
  [GrpcStatus.NOT_FOUND, NotFoundError],
  [GrpcStatus.ALREADY_EXISTS, AlreadyExistsError],
  [GrpcStatus.FAILED_PRECONDITION, FailedPreconditionError],
  [GrpcStatus.INVALID_ARGUMENT, InvalidArgumentError],
  [GrpcStatus.UNAVAILABLE, UnavailableError],
  [GrpcStatus.DEADLINE_EXCEEDED, DeadlineExceededError],
  [GrpcStatus.PERMISSION_DENIED, PermissionDeniedError],
  [GrpcStatus.UNIMPLEMENTED, UnimplementedError],
  [GrpcStatus.CANCELLED, CancelledError],
]);

/**
 * Some services return errdefs errors without converting them to a status (the snapshots List in 1.6 and
 * 2.x does), so the client sees code Unknown and a message ending in the class, e.g. `…: unavailable`.
 */
const bySuffix: [string, ErrorClass][] = [
  [': not found', NotFoundError],
  [': already exists', AlreadyExistsError],
  [': failed precondition', FailedPreconditionError],
  [': invalid argument', InvalidArgumentError],
  [': unavailable', UnavailableError],
  [': deadline exceeded', DeadlineExceededError],
];

interface GrpcLikeError {
  code?: number;
  details?: string;
  message?: string;
}

/** Converts a grpc-js error into the matching class, keeping containerd's message. */
export function fromGrpcError(error: unknown, rpc: string, target: string): ContainerdError {
  const e = (error ?? {}) as GrpcLikeError;
  const code = typeof e.code === 'number' ? e.code : GrpcStatus.UNKNOWN;
  const message = e.details || e.message || 'unknown error';
  let cls = byCode.get(code);
  if (!cls && code === GrpcStatus.UNKNOWN) {
    cls = bySuffix.find(([suffix]) => message.endsWith(suffix))?.[1];
    // containerd 2.x passes a proxy plugin's dial failure through as text: "connection error: desc = …".
    if (!cls && /^connection error: desc = "transport: /.test(message)) cls = UnavailableError;
  }
  const text =
    code === GrpcStatus.DEADLINE_EXCEEDED
      ? `${rpc} on ${target}: no answer before the deadline (${message})`
      : message;
  return new (cls ?? UnknownContainerdError)(text, rpc, code, { cause: error });
}

/** systemd could not be reached: nothing it was asked to do happened (exit 2). */
import { UsageError } from '../../errors/index.js';

export class SystemdUnreachableError extends UsageError {
  constructor(action: string, unit: string | undefined, socket: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message : String(cause);
    super(
      `cannot ${action}${unit === undefined ? '' : ` ${unit}`}: systemd does not answer on ${socket} (${why})`,
      {
        input: unit ?? socket,
        hint: "kata-deploy reaches the node's systemd through --host-root: mount the node's / there and run in the node's PID namespace (hostPID: true; systemd refuses peers it cannot see), or pass --service-manager process on a node without systemd",
        cause,
      },
    );
  }
}

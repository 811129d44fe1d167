/**
 * Errors of the Kubernetes API layer. Every one names the call it is about (`patch nodes/n1`), so an operator
 * reading the pod's termination message knows which verb and resource to look at. 401 and 403 are usage
 * errors (exit 2): the pod's credentials or its RBAC must change, and retrying cannot help.
 */
import { ExitCode, KataDeployError, UsageError } from '../errors/index.js';
import type { ApiAccess } from './access.js';

export interface ApiCall {
  readonly verb: ApiAccess['verb'];
  readonly resource: ApiAccess['resource'];
  readonly name: string;
  readonly namespace?: string;
}

export function describeCall(call: ApiCall): string {
  const ns = call.namespace === undefined ? '' : ` in namespace ${call.namespace}`;
  return `${call.verb} ${call.resource}/${call.name}${ns}`;
}

/** What the API answered, as the client layer saw it. */
export interface ApiFailure {
  /** HTTP status; undefined when no answer came (network, TLS, deadline). */
  readonly status: number | undefined;
  /** The Status object's `reason` (`Forbidden`, `Conflict`, …), or the transport's error code. */
  readonly reason: string;
  readonly message: string;
  /** `Retry-After`, in ms, when the server sent one (429, 503). */
  readonly retryAfterMs?: number;
}

/** 401 or 403: the credentials or the RBAC of the pod's service account. Exit 2. */
export class KubeDeniedError extends UsageError {
  constructor(
    readonly call: ApiCall,
    readonly failure: ApiFailure,
  ) {
    const unauthorized = failure.status === 401;
    super(
      unauthorized
        ? `the Kubernetes API did not accept kata-deploy's credentials for ${describeCall(call)} (401 Unauthorized: ${failure.message})`
        : `RBAC denied ${describeCall(call)}: the service account may not "${call.verb}" ${call.resource} (403 Forbidden: ${failure.message})`,
      {
        input: `${call.verb} ${call.resource}`,
        hint: unauthorized
          ? "check the pod's service-account token (or --kubeconfig's user)"
          : `grant the pod's service account "${call.verb}" on ${call.resource} (docs/daemonset.md lists the RBAC it needs); nothing was changed by this call`,
      },
    );
  }
}

/** Any other failed call: transient ones (no answer, 429, 5xx) are retried with backoff before this ends a run. */
export class KubeApiError extends KataDeployError {
  override readonly exitCode = ExitCode.negative;
  constructor(
    readonly call: ApiCall,
    readonly failure: ApiFailure,
    details: { hint?: string; suffix?: string } = {},
  ) {
    const answer =
      failure.status === undefined
        ? `no answer: ${failure.message}`
        : `${failure.status} ${failure.reason}: ${failure.message}`;
    super(`${describeCall(call)} failed (${answer})${details.suffix ?? ''}`, {
      input: `${call.verb} ${call.resource}`,
      hint: details.hint,
    });
  }

  get transient(): boolean {
    const s = this.failure.status;
    return s === undefined || s === 429 || s >= 500;
  }

  get conflict(): boolean {
    return this.failure.status === 409;
  }

  get notFound(): boolean {
    return this.failure.status === 404;
  }
}

/** A run stopped at a step boundary because a signal asked it to. */
export class InterruptedError extends KataDeployError {
  override readonly exitCode = ExitCode.negative;
}

/**
 * Error classes for the whole tool. Callers test the class (`instanceof NotFoundError`), never the message.
 * Every error carries the exit code the CLI ends with, the input it is about and, where one exists, a hint
 * that says what to do.
 */

/** The exit codes of every command, in one table. */
export const ExitCode = {
  ok: 0,
  /** The command's negative verdict: not clean, unknown, not capable, problems found. */
  negative: 1,
  /** Usage error, invalid settings, containerd unreachable. */
  usage: 2,
  /** Applied partially; safe to run again. */
  partial: 3,
  /** A defect in kata-deploy itself (EX_SOFTWARE): the message and stack trace go on stderr. */
  internal: 70,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** What each exit code means, in the words `--help` and README use. */
export const EXIT_CODE_MEANINGS: Readonly<Record<ExitCodeValue, string>> = {
  [ExitCode.ok]: 'done (clean, capable, healthy)',
  [ExitCode.negative]:
    "the command's negative verdict (not clean, unknown, not capable, problems found) or the host refused",
  [ExitCode.usage]: 'usage error, invalid settings or config, or containerd unreachable; nothing was changed',
  [ExitCode.partial]: 'applied partially; run the same command again',
  [ExitCode.internal]: 'internal error in kata-deploy (a bug: please report it with the stack trace)',
};

export interface ErrorDetails {
  /** The input the error is about: a variable, flag, file, socket or snapshot key. */
  input?: string;
  /** What the operator can do about it. */
  hint?: string;
  cause?: unknown;
}

export class KataDeployError extends Error {
  readonly exitCode: ExitCodeValue = ExitCode.internal;
  readonly input: string | undefined;
  readonly hint: string | undefined;

  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.input = details.input;
    this.hint = details.hint;
  }

  /** One line for a terminal: the message and, when there is one, the hint. */
  describe(): string {
    return this.hint ? `${this.message} (${this.hint})` : this.message;
  }
}

/** Bad flags, bad environment values, bad paths: nothing was written. */
export class UsageError extends KataDeployError {
  override readonly exitCode = ExitCode.usage;
}

/** A step failed after others had already been applied; running the command again converges. */
export class PartialApplyError extends KataDeployError {
  override readonly exitCode = ExitCode.partial;
}

/** A failure on the host (file system, process, service manager). */
export class HostError extends KataDeployError {
  override readonly exitCode = ExitCode.negative;
}

export function errorMessage(error: unknown): string {
  if (error instanceof KataDeployError) return error.describe();
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Node's errno code of an error, if it has one (`ENOENT`, `EACCES`, …). */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

/** True when the error is the errno the caller expects; used to ignore only that failure. */
export function isErrno(error: unknown, ...codes: string[]): boolean {
  const code = errnoCode(error);
  return code !== undefined && codes.includes(code);
}

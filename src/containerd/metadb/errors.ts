import { ExitCode, HostError, KataDeployError, type ErrorDetails } from '../../errors/errors.js';

/**
 * meta.db is truncated, damaged, or not a containerd bbolt database at all. The message names the file and
 * what is wrong with it; nothing was read into the result.
 */
export class MetaDbFormatError extends KataDeployError {
  override readonly exitCode = ExitCode.usage;

  /** What is wrong, without the file name. */
  readonly problem: string;

  constructor(file: string, problem: string, details: ErrorDetails = {}) {
    super(`${file}: ${problem}`, {
      input: file,
      hint:
        details.hint ??
        'pass the meta.db of a containerd (io.containerd.metadata.v1.bolt/meta.db under its root) with --meta-db, or restore it from a backup',
      cause: details.cause,
    });
    this.problem = problem;
  }
}

/** No file at the meta.db path that was given or derived. */
export class MetaDbNotFoundError extends KataDeployError {
  override readonly exitCode = ExitCode.usage;
}

/** containerd kept committing while the file was read, so no consistent copy could be taken. */
export class MetaDbChangedError extends HostError {}

import { CommanderError } from 'commander';
import { buildProgram, isInformational, usageErrorFromCommander } from './cli/program.js';
import { ExitCode, KataDeployError } from './errors/index.js';
import { jsonReplacer } from './output/emit.js';

/** The entry point: the only place that decides how the process ends. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const wantsJson = argv.slice(0, until(argv, '--')).includes('--json');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (isInformational(error)) return ExitCode.ok;
      // Commander printed its own text on stderr already; with --json, stdout gets the error as JSON.
      const usage = usageErrorFromCommander(error, program, argv);
      if (wantsJson) writeJsonError(usage);
      return usage.exitCode;
    }
    return reportFailure(error, wantsJson);
  }
}

function until(argv: readonly string[], marker: string): number {
  const at = argv.indexOf(marker);
  return at === -1 ? argv.length : at;
}

function writeJsonError(error: unknown): void {
  const body =
    error instanceof KataDeployError
      ? { error: { kind: error.name, message: error.message, input: error.input, hint: error.hint } }
      : { error: { kind: 'InternalError', message: error instanceof Error ? error.message : String(error) } };
  process.stdout.write(`${JSON.stringify(body, jsonReplacer, 2)}\n`);
}

function reportFailure(error: unknown, json: boolean): number {
  if (json) writeJsonError(error);
  if (error instanceof KataDeployError) {
    process.stderr.write(`kata-deploy: ${error.describe()}\n`);
    return error.exitCode;
  }
  process.stderr.write(
    `kata-deploy: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return ExitCode.internal;
}

// A reader that went away (`kata-deploy --help | head`) is not our failure: stop writing, keep the exit code.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit();
    throw error;
  });
}
const exitCode = await main(process.argv.slice(2));
process.exitCode = exitCode;

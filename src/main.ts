import { CommanderError } from 'commander';
import { buildProgram } from './cli/program.js';
import { ExitCode, KataDeployError } from './errors/index.js';
import { jsonReplacer } from './output/emit.js';

/** The entry point: the only place that decides how the process ends. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  const wantsJson = argv.includes('--json');
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      ) {
        return ExitCode.ok;
      }
      return ExitCode.usage;
    }
    return reportFailure(error, wantsJson);
  }
}

function reportFailure(error: unknown, json: boolean): number {
  const known = error instanceof KataDeployError;
  const exitCode = known ? error.exitCode : ExitCode.internal;
  if (json) {
    const body = known
      ? { error: { kind: error.name, message: error.message, input: error.input, hint: error.hint } }
      : { error: { kind: 'InternalError', message: error instanceof Error ? error.message : String(error) } };
    process.stdout.write(`${JSON.stringify(body, jsonReplacer, 2)}\n`);
  }
  if (known) {
    process.stderr.write(`kata-deploy: ${error.describe()}\n`);
  } else {
    process.stderr.write(
      `kata-deploy: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
  return exitCode;
}

const exitCode = await main(process.argv.slice(2));
process.exitCode = exitCode;

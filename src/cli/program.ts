import { Command, CommanderError, Option } from 'commander';
import { EXIT_CODE_MEANINGS, UsageError } from '../errors/index.js';
import { shortenQuoted } from '../errors/echo.js';
import { LOG_LEVELS } from '../output/log.js';
import { VERSION } from '../version.js';
import { registerContainerdCommands } from './containerd.js';
import { registerSnapshotsCommands } from './snapshots.js';
import { registerCheckCommand } from './check.js';
import { registerLifecycleCommands } from './lifecycle.js';

/** Builds the `kata-deploy` command tree. Each subcommand lives in its own file under cli/. */
export function buildProgram(): Command {
  const program = new Command('kata-deploy')
    .description(
      'Installs Kata Containers on a containerd node and removes it again, without leaving the node worse than it found it.',
    )
    .version(VERSION, '-V, --version')
    .option('--json', 'print the result as JSON on stdout, errors included (logs stay on stderr)')
    .addOption(
      new Option(
        '--log-level <level>',
        'how much to log on stderr (default: info, debug when DEBUG=true; warn with --json)',
      ).choices(LOG_LEVELS),
    )
    .showHelpAfterError('(run with --help for usage)')
    // Set before the subcommands exist: commander copies these settings into each one as it is created,
    // so a bad flag anywhere ends with exit code 2 from main.ts, not commander's own exit 1, and every
    // subcommand's --help lists the global flags.
    .exitOverride()
    .configureHelp({ showGlobalOptions: true })
    .configureOutput({
      writeErr: (s) => process.stderr.write(s),
      outputError: (s, write) => write(shortenQuoted(s)),
    });
  program.addHelpText('after', `\nExit codes:\n${exitCodeLines()}`);
  registerLifecycleCommands(program);
  registerSnapshotsCommands(program);
  registerContainerdCommands(program);
  registerCheckCommand(program);
  return program;
}

function exitCodeLines(): string {
  return Object.entries(EXIT_CODE_MEANINGS)
    .map(([code, meaning]) => `  ${code.padStart(2)}  ${meaning}`)
    .join('\n');
}

/** Commander's own outcomes that are not errors: help or the version was asked for and printed. */
export function isInformational(error: CommanderError): boolean {
  if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return true;
  // `commander.help` with exit code 1 is help printed because no subcommand was given: a usage error.
  return error.code === 'commander.help' && error.exitCode === 0;
}

/**
 * Commander's usage error (unknown option, missing or invalid value, unknown command) as kata-deploy's own
 * `UsageError`, naming the flag or word it is about and the help to read. Commander already printed its text.
 */
export function usageErrorFromCommander(error: CommanderError, program: Command, argv: readonly string[]) {
  const path = commandPath(program, argv);
  const help = `kata-deploy${path.length > 0 ? ` ${path.join(' ')}` : ''} --help`;
  if (error.code === 'commander.help') {
    return new UsageError(`no command given`, { hint: `run ${help} for the commands` });
  }
  const message = shortenQuoted(error.message.replace(/^error: /, ''));
  return new UsageError(message, { input: inputOf(message), hint: `run ${help} for usage` });
}

/** The subcommands named on the command line, in order (`snapshots clean`). */
function commandPath(program: Command, argv: readonly string[]): string[] {
  const path: string[] = [];
  let command = program;
  for (const word of argv) {
    if (word === '--') break;
    const sub = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (sub === undefined) continue;
    path.push(sub.name());
    command = sub;
  }
  return path;
}

/** The flag (long form) or word the message quotes first: `--snapshotter` from `'--snapshotter <name>'`. */
function inputOf(message: string): string | undefined {
  const quoted = /'([^']*)'/.exec(message)?.[1];
  if (quoted === undefined) return undefined;
  const long = /(?:^|[\s,])(--[A-Za-z0-9][\w-]*)/.exec(quoted)?.[1];
  return long ?? quoted.split(/[\s,]/)[0];
}

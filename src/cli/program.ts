import { Command, Option } from 'commander';
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
    .option('--json', 'print the result as JSON on stdout (logs stay on stderr)')
    .addOption(
      new Option(
        '--log-level <level>',
        'how much to log on stderr (default: info, debug when DEBUG=true)',
      ).choices(LOG_LEVELS),
    )
    .showHelpAfterError('(run with --help for usage)')
    // Set before the subcommands exist: commander copies these settings into each one as it is created,
    // so a bad flag anywhere ends with exit code 2 from main.ts, not commander's own exit 1.
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  registerLifecycleCommands(program);
  registerSnapshotsCommands(program);
  registerContainerdCommands(program);
  registerCheckCommand(program);
  return program;
}

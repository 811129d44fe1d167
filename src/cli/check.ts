import type { Command } from 'commander';

export function registerCheckCommand(program: Command): void {
  program.command('check').description('check that this host can run Kata Containers');
}

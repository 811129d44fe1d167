import type { Command } from 'commander';

export function registerLifecycleCommands(program: Command): void {
  program.command('install').description('install Kata Containers on this node');
  program.command('cleanup').description('remove Kata Containers from this node');
  program.command('reset').description('restart the container runtime so the node forgets Kata');
}

import type { Command } from 'commander';

export function registerContainerdCommands(program: Command): void {
  program.command('containerd').description('inspect a containerd node');
}

import type { Command } from 'commander';

export function registerSnapshotsCommands(program: Command): void {
  program
    .command('snapshots')
    .description("clean, diagnose and repair containerd's snapshot records for a snapshotter");
}

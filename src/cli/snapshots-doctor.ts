import type { Command } from 'commander';

/** `snapshots doctor` and `snapshots repair`. */
export function registerDoctorCommands(_snapshots: Command): void {}

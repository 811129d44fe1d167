import type { Command } from 'commander';
import { createLogger, isLogLevel, type Logger, type LogLevel } from '../output/log.js';
import { UsageError } from '../errors/index.js';

/** The global options every subcommand sees. */
export interface GlobalOptions {
  readonly json: boolean;
  readonly logLevel: LogLevel;
  readonly log: Logger;
}

/** Reads the global options from the root program, validated. */
export function globalOptions(command: Command): GlobalOptions {
  let root = command;
  while (root.parent) root = root.parent;
  const opts = root.opts<{ json?: boolean; logLevel?: string }>();
  const level =
    opts.logLevel ?? (process.env['DEBUG'] === 'true' || process.env['DEBUG'] === '1' ? 'debug' : 'info');
  if (!isLogLevel(level)) {
    throw new UsageError(`--log-level: "${level}" is not a log level`, {
      input: '--log-level',
      hint: 'use one of error, warn, info, debug, trace',
    });
  }
  // With --json, stderr carries only warnings and errors unless a level was asked for.
  const effective: LogLevel = opts.json && opts.logLevel === undefined ? 'warn' : level;
  return { json: opts.json === true, logLevel: effective, log: createLogger(effective) };
}

/** Parses a positive integer flag, or fails with a message naming the flag. */
export function parsePositiveInt(flag: string) {
  return (raw: string): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) {
      throw new UsageError(`${flag}: "${raw}" is not a positive whole number`, { input: flag });
    }
    return value;
  };
}

/** Parses a duration in milliseconds or with a unit (`500ms`, `5s`, `2m`). */
export function parseDuration(flag: string) {
  return (raw: string): number => {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(raw.trim());
    if (!match) {
      throw new UsageError(`${flag}: "${raw}" is not a duration`, {
        input: flag,
        hint: 'write e.g. 500ms, 5s or 2m',
      });
    }
    const n = Number(match[1]);
    const unit = match[2] ?? 'ms';
    const ms = unit === 'ms' ? n : unit === 's' ? n * 1000 : n * 60_000;
    if (ms <= 0) throw new UsageError(`${flag}: the duration must be above zero`, { input: flag });
    return ms;
  };
}

import type { Command } from 'commander';
import { createLogger, isLogLevel, type Logger, type LogLevel } from '../output/log.js';
import { quoteValue, UsageError } from '../errors/index.js';
import { durationForms, parseDuration as parseDurationValue } from '../settings/parse.js';

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
    throw new UsageError(`--log-level=${quoteValue(level)} is not valid: expected a log level`, {
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
    if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < 1) {
      throw flagError(flag, raw, 'a whole number from 1');
    }
    return value;
  };
}

/**
 * Parses a duration flag (`--timeout`): a bare number is milliseconds, or `500ms`, `5s`, `2m`. The one duration
 * parser: `--restart-timeout` goes through the same one in the settings schema, with the same words.
 */
export function parseDuration(flag: string, minMs = 1) {
  return (raw: string): number => {
    const parsed = parseDurationValue(raw, minMs);
    if (!parsed.ok) throw flagError(flag, raw, parsed.accepted);
    return parsed.value;
  };
}

/** What a duration flag's help says it accepts. */
export function durationHelp(minMs = 1): string {
  return durationForms(minMs);
}

/** A bad flag value, worded as the settings errors are: `--flag="value" is not valid: expected …`. */
function flagError(flag: string, raw: string, accepted: string): UsageError {
  return new UsageError(`${flag}=${quoteValue(raw)} is not valid: expected ${accepted}`, {
    input: flag,
    hint: "the command's --help lists what each flag takes",
  });
}

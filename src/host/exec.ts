/** Runs a program with a deadline and collects its output; a missing program or a timeout is a HostError. */
import { spawn } from 'node:child_process';
import { HostError } from '../errors/index.js';

export interface ExecResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ExecOptions {
  readonly timeoutMs: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Written to the program's stdin, which is then closed (without it, closed at once). */
  readonly input?: string;
}

const MAX_OUTPUT = 8 * 1024 * 1024;

export function exec(command: string, args: readonly string[], options: ExecOptions): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env,
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    // A program that exits without reading all of its input closes the pipe: that is its answer, not an error.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let timedOut = false;
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_OUTPUT) into.push(chunk);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new HostError(`cannot run ${command}: ${error.message}`, { input: command, cause: error }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(
          new HostError(`${command} ${args.join(' ')} did not finish within ${options.timeoutMs} ms`, {
            input: command,
          }),
        );
        return;
      }
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

/** Like `exec`, but a non-zero exit is a HostError carrying the last line of stderr. */
export async function execOk(
  command: string,
  args: readonly string[],
  options: ExecOptions,
): Promise<ExecResult> {
  const result = await exec(command, args, options);
  if (result.code !== 0) {
    const last = result.stderr.trim().split('\n').at(-1) ?? '';
    throw new HostError(
      `${command} ${args.join(' ')} failed (exit ${result.code ?? result.signal}): ${last}`,
      {
        input: command,
      },
    );
  }
  return result;
}

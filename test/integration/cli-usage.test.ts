/**
 * The built CLI's usage surface: a usage error under --json is a JSON error on stdout (exit 2, nothing else
 * there), every subcommand's --help lists the global flags, both duration flags take the same forms with the
 * same words, echoed values are cut, and README names every exit code.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/program.js';
import { ExitCode } from '../../src/errors/index.js';
import { REPO_ROOT, runCli } from '../support/cli.js';

const run = (args: string[], env: Record<string, string> = {}) => runCli(args, { env, timeoutMs: 60_000 });

/** Runs at most `width` CLIs at once (the machine is shared). */
async function inBatches<T, R>(items: readonly T[], width: number, f: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width)
    out.push(...(await Promise.all(items.slice(i, i + width).map(f))));
  return out;
}

interface JsonError {
  error: { kind: string; message: string; input?: string; hint?: string };
}

describe('a usage error under --json', () => {
  const LONG = 'x'.repeat(100_000);
  const cases: [string, string[], RegExp, string | undefined][] = [
    ['an unknown option', ['install', '--bogus', '--json'], /unknown option '--bogus'/, '--bogus'],
    [
      'an unknown option before the command',
      ['--json', '--bogus', 'check'],
      /unknown option '--bogus'/,
      '--bogus',
    ],
    [
      'a missing required option',
      ['snapshots', 'clean', '--json'],
      /required option '--snapshotter <name>' not specified/,
      '--snapshotter',
    ],
    [
      'a missing option value',
      ['containerd', 'info', '--json', '--timeout'],
      /argument missing/,
      '--timeout',
    ],
    [
      'an invalid choice',
      ['install', '--runtime', 'crio', '--json'],
      /option '--runtime <name>' argument 'crio' is invalid/,
      '--runtime',
    ],
    [
      'an invalid global choice',
      ['--json', '--log-level', 'loud', 'check'],
      /option '--log-level <level>' argument 'loud' is invalid/,
      '--log-level',
    ],
    [
      'a bad duration',
      ['containerd', 'info', '--timeout', 'soon', '--json'],
      /^--timeout="soon" is not valid: expected a duration/,
      '--timeout',
    ],
    [
      'a bad number',
      ['snapshots', 'clean', '--snapshotter', 'nydus', '--concurrency', '0', '--json'],
      /^--concurrency="0" is not valid: expected a whole number from 1/,
      '--concurrency',
    ],
    ['an unknown command', ['--json', 'frobnicate'], /unknown command 'frobnicate'/, 'frobnicate'],
    ['an extra argument', ['check', 'extra', '--json'], /too many arguments for 'check'/, 'check'],
    ['no command', ['--json'], /^no command given$/, undefined],
    [
      'a 100k-character value',
      ['install', '--runtime', LONG, '--json'],
      /argument 'x{200}…' \(100000 characters\) is invalid/,
      '--runtime',
    ],
  ];

  it('prints one JSON error on stdout and nothing else, exit 2, text on stderr', async () => {
    const results = await inBatches(cases, 4, async (c) => ({ c, r: await run(c[1]) }));
    for (const {
      c: [what, args, message, input],
      r,
    } of results) {
      assert.equal(r.code, ExitCode.usage, `${what}: exit ${r.code}\n${r.stderr.slice(0, 500)}`);
      let body: JsonError;
      try {
        body = JSON.parse(r.stdout) as JsonError;
      } catch {
        assert.fail(`${what}: stdout is not one JSON document: ${r.stdout.slice(0, 500)}`);
      }
      assert.deepEqual(Object.keys(body), ['error'], what);
      assert.equal(body.error.kind, 'UsageError', what);
      assert.match(body.error.message, message, what);
      assert.equal(body.error.input, input, what);
      assert.match(body.error.hint ?? '', /--help/, what);
      assert.ok(r.stdout.length < 1000, `${what}: ${r.stdout.length} characters on stdout`);
      assert.ok(
        r.stderr.length > 0 && r.stderr.length < 2000,
        `${what}: stderr ${r.stderr.length} characters`,
      );
      assert.ok(
        !args.includes(LONG) || !r.stderr.includes(LONG.slice(0, 300)),
        `${what}: stderr echoes it all`,
      );
    }
  });

  it('without --json, the same errors are text on stderr and stdout stays empty', async () => {
    const r = await run(['install', '--bogus']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /unknown option '--bogus'/);
  });
});

/** Every command path of the program, e.g. `snapshots clean`. */
function commandPaths(command: Command, prefix: string[] = []): string[][] {
  return command.commands.flatMap((c) => [[...prefix, c.name()], ...commandPaths(c, [...prefix, c.name()])]);
}

describe('--help', () => {
  it('lists the global flags for every subcommand', async () => {
    const paths = commandPaths(buildProgram());
    assert.ok(paths.length >= 10, paths.map((p) => p.join(' ')).join(', '));
    const results = await inBatches(paths, 4, async (path) => ({ path, r: await run([...path, '--help']) }));
    for (const { path, r } of results) {
      assert.equal(r.code, 0, `${path.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, /Global Options:/, path.join(' '));
      assert.match(r.stdout, /--json\s/, path.join(' '));
      assert.match(r.stdout, /--log-level <level>/, path.join(' '));
    }
  });

  it('says which duration forms --timeout and --restart-timeout take, and the exit codes', async () => {
    const [info, install, root] = await Promise.all([
      run(['containerd', 'info', '--help']),
      run(['install', '--help']),
      run(['--help']),
    ]);
    const forms = 'whole milliseconds (1500) or a number with ms, s or m (500ms, 1.5s, 2m)';
    // commander wraps help text at the terminal width: compare without line breaks.
    const flat = (s: string) => s.replace(/\s+/g, ' ');
    assert.ok(
      flat(info.stdout).includes(
        `--timeout <duration> deadline of each API call; a duration from 1ms to 24h: ${forms}`,
      ),
    );
    assert.ok(
      flat(install.stdout).includes(
        `--restart-timeout <duration> how long containerd may take to answer after a restart; a duration from 1s to 24h: ${forms} (default: 1m)`,
      ),
    );
    for (const code of Object.values(ExitCode)) assert.match(root.stdout, new RegExp(`^ *${code}  \\S`, 'm'));
  });
});

describe('duration flags', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'kd-cli-usage-'));
    await mkdir(join(root, 'etc/containerd'), { recursive: true });
    await writeFile(join(root, 'etc/containerd/config.toml'), 'version = 3\n');
  });
  after(async () => rm(root, { recursive: true, force: true }));

  const cleanup = (timeout: string) =>
    run(
      ['cleanup', '--dry-run', '--host-root', root, '--runtime', 'containerd', '--restart-timeout', timeout],
      {
        NODE_NAME: 'n',
        CONTAINER_RUNTIME_VERSION: 'containerd://2.1.9',
      },
    );

  it('--restart-timeout takes a bare number, ms, s and m as --timeout does', async () => {
    for (const ok of ['5000', '1500ms', '5s', '1.5s', '2m']) {
      const r = await cleanup(ok);
      assert.equal(r.code, 0, `${ok}: ${r.stderr}`);
    }
  });

  it('refuses a bad value of either in the same words', async () => {
    const [restart, timeout] = await Promise.all([
      cleanup('soon'),
      run(['containerd', 'info', '--timeout', 'soon', '--containerd-socket', join(root, 'none.sock')]),
    ]);
    const accepted = (flag: string, min: string) =>
      `kata-deploy: ${flag}="soon" is not valid: expected a duration from ${min} to 24h: whole milliseconds (1500) or a number with ms, s or m (500ms, 1.5s, 2m)`;
    assert.equal(restart.code, 2);
    assert.ok(restart.stderr.startsWith(accepted('--restart-timeout', '1s')), restart.stderr);
    assert.equal(timeout.code, 2);
    assert.ok(timeout.stderr.startsWith(accepted('--timeout', '1ms')), timeout.stderr);
  });
});

describe('README', () => {
  it('lists every exit code the CLI can return', async () => {
    const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
    const line = /Exit codes: [^\n]*(?:\n[^\n]+)*/.exec(readme)?.[0] ?? '';
    for (const code of Object.values(ExitCode))
      assert.match(line, new RegExp(`\\b${code} `), `exit code ${code}`);
  });
});

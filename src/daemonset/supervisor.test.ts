/**
 * The supervisor with stand-in workers (small scripts that speak the IPC protocol): readiness follows the
 * install worker; the first SIGTERM stops an install and runs the cleanup; a second one is ignored; a failure
 * ends the run with the worker's exit code and leaves its words in the termination log.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '../output/log.js';
import { answer } from './health.js';
import { superviseDaemonSet } from './supervisor.js';
import type { WorkerStep } from './protocol.js';
import { writeTerminationLog } from './termination-log.js';

let dir: string;
let script: string;
before(() => {
  dir = mkdtempSync('/tmp/kd-supervisor-');
  script = join(dir, 'worker.mjs');
  // argv: <step> <behaviour>. Behaviours: ok, fail2, wait-signal (install stops on SIGTERM), slow (cleanup).
  writeFileSync(
    script,
    `const [step, how] = process.argv.slice(2);
const send = (m) => process.send(m, () => process.exit(m.type === 'done' ? m.exitCode : m.error.exitCode));
const done = () => send({ type: 'done', exitCode: 0, maxRssKiB: 1, outcome: step === 'install'
  ? { step, node: 'n', marker: 'm', lifecycle: { handlers: [], steps: [], applied: 0, restarted: false }, nodeEvidence: [], labels: { attempts: 1, dropped: 0 }, taints: { removed: [] } }
  : { step, node: 'n', decision: 'uninstalled', reason: 'test', evidence: [] } });
if (how === 'ok') done();
if (how === 'fail2') send({ type: 'failed', interrupted: false, maxRssKiB: 1, error: { kind: 'KubeDeniedError', message: 'RBAC denied patch nodes/n', hint: 'grant it', exitCode: 2 } });
if (how === 'wait-signal') process.on('SIGTERM', () => send({ type: 'failed', interrupted: true, maxRssKiB: 1, error: { kind: 'InterruptedError', message: 'stopped by a signal before step 3', exitCode: 1 } }));
if (how === 'wait-signal') setInterval(() => {}, 1000);
if (how === 'slow') { process.on('SIGTERM', () => {}); setTimeout(done, 400); }
`,
  );
});
after(() => rmSync(dir, { recursive: true, force: true }));

function run(behaviour: Record<WorkerStep, string>, lines: string[], terminationLog = join(dir, 'none')) {
  return superviseDaemonSet({
    node: 'n',
    healthPort: 0,
    terminationLog,
    log: createLogger('info', (l) => lines.push(l.trim())),
    workerCommand: (step) => ({ command: process.execPath, args: [script, step, behaviour[step]] }),
  });
}

async function readyz(lines: string[]): Promise<number> {
  const port = Number(/listening on port (\d+)/.exec(lines.join('\n'))?.[1]);
  return (await fetch(`http://127.0.0.1:${port}/readyz`)).status;
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(check(), 'condition never met');
}

describe('the DaemonSet supervisor', () => {
  it('is ready once the install worker is done, and cleans up on SIGTERM', async () => {
    const lines: string[] = [];
    const result = run({ install: 'ok', cleanup: 'ok' }, lines);
    await until(() => lines.some((l) => l.includes('waiting for SIGTERM')));
    assert.equal(await readyz(lines), 200);
    process.emit('SIGTERM', 'SIGTERM');
    const r = await result;
    assert.equal(r.exitCode, 0);
    assert.equal(r.signal, 'SIGTERM');
    assert.equal(r.cleanup?.exitCode, 0);
    assert.deepEqual(
      lines.filter((l) => l.startsWith('info: readiness')),
      ['info: readiness: installing → ready', 'info: readiness: ready → stopping'],
    );
  });

  it('stops the install on SIGTERM, runs the cleanup, and ignores a second SIGTERM', async () => {
    const lines: string[] = [];
    const result = run({ install: 'wait-signal', cleanup: 'slow' }, lines);
    await until(() => lines.some((l) => l.includes('listening on port')));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await readyz(lines), 503);
    process.emit('SIGTERM', 'SIGTERM');
    await until(() => lines.some((l) => l.includes('cleanup: starting')));
    process.emit('SIGTERM', 'SIGTERM');
    const r = await result;
    assert.equal(r.install.interrupted, true);
    assert.equal(r.cleanup?.exitCode, 0);
    assert.equal(r.exitCode, 0);
    assert.ok(
      lines.some((l) => l.includes('SIGTERM again: already stopping')),
      lines.join('\n'),
    );
  });

  it("ends with the failed worker's exit code and writes its words to the termination log", async () => {
    const lines: string[] = [];
    const log = join(dir, 'termination-log');
    writeFileSync(
      log,
      'old words that are longer than the new ones, which must not leave a tail behind them',
    );
    const r = await run({ install: 'fail2', cleanup: 'ok' }, lines, log);
    assert.equal(r.exitCode, 2);
    assert.equal(r.cleanup, undefined, 'nothing was installed: no cleanup');
    assert.equal(readFileSync(log, 'utf8'), 'kata-deploy install: RBAC denied patch nodes/n (grant it)\n');
  });
});

describe('health answers', () => {
  it('healthz is always 200; readyz 200 only when ready; 404 elsewhere', () => {
    for (const s of ['installing', 'ready', 'stopping', 'failed'] as const)
      assert.equal(answer('/healthz', s).status, 200);
    assert.equal(answer('/readyz?verbose', 'ready').status, 200);
    assert.deepEqual(answer('/readyz', 'installing'), { status: 503, body: 'not_ready installing\n' });
    assert.equal(answer('/metrics', 'ready').status, 404);
  });
});

describe('termination log', () => {
  it('writes into an existing file only, cut at 4096 bytes', async () => {
    assert.equal(await writeTerminationLog(join(dir, 'absent'), 'x'), 'absent');
    const file = join(dir, 'tl');
    writeFileSync(file, '');
    assert.equal(await writeTerminationLog(file, 'é'.repeat(5000)), 'written');
    const written = readFileSync(file);
    assert.ok(written.length <= 4096 && written.length > 4000, String(written.length));
    assert.ok(!written.toString('utf8').includes('\ufffd'), 'no character cut in half');
  });
});

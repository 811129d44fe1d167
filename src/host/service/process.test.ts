import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../../test/bed/exec.js';
import { HOST_CHILD } from '../../../test/support/host-child.js';
import { announceSeed, rngFor } from '../../../test/fault/seed.js';
import { processSupervisor, RECORD_THEN_EXEC, WRAPPER_NAME } from './process.js';

const UNIT = 'svc.service';
let root: string;
let token: string;
const supervisor = () => processSupervisor({ hostRoot: root, specDir: '/etc/kata-deploy/services' });

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'kd-supervisor-'));
  await mkdir(join(root, 'etc/kata-deploy/services'), { recursive: true });
  // A duration nobody else uses names this test's services in /proc.
  token = `${4000 + Math.floor(Math.random() * 100_000)}.5`;
  await writeFile(
    join(root, 'etc/kata-deploy/services', `${UNIT}.json`),
    JSON.stringify({ command: '/bin/sleep', args: [token], logFile: '/var/log/svc.log' }),
  );
});
after(async () => {
  for (const pid of await services()) process.kill(pid, 'SIGKILL');
  await rm(root, { recursive: true, force: true });
});

/** Live processes of this test's service, found by their command line. */
async function services(): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    const state = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    if (cmdline === `/bin/sleep\0${token}\0` && !/\) [ZX] /.test(state)) pids.push(Number(name));
  }
  return pids;
}

async function recordedPid(): Promise<number | undefined> {
  const text = await readFile(join(root, `run/kata-deploy/services/${UNIT}.pid`), 'utf8').catch(() => '');
  return Number(text.split(' ')[0]) || undefined;
}

/** One service runs, and it is the recorded one; then stop leaves none. */
async function assertOneTrackedThenStop(what: string): Promise<void> {
  const running = await services();
  assert.equal(running.length, 1, `${what}: ${running.length} services running (${running.join(', ')})`);
  assert.equal(await recordedPid(), running[0], `${what}: the running service is the recorded one`);
  assert.equal(await supervisor().isActive(UNIT), true);
  await supervisor().stop(UNIT);
  assert.deepEqual(await services(), [], `${what}: stop left a service running`);
}

const startInChild = (fault: string) =>
  run(process.execPath, ['--import', 'tsx', HOST_CHILD, JSON.stringify({ op: 'start', root, unit: UNIT })], {
    env: { ...process.env, KATA_DEPLOY_TEST_FAULT: fault },
    allowFail: true,
  });

describe('process supervisor: a start killed at any point leaves no untracked service', () => {
  for (const point of ['service.spawning', 'service.spawned', 'service.recorded']) {
    it(`killed at ${point}, the next start finds or starts exactly one`, async () => {
      const r = await startInChild(point);
      assert.equal(r.signal, 'SIGKILL', `the start was killed at ${point}: ${r.stderr}`);
      await supervisor().start(UNIT);
      await assertOneTrackedThenStop(point);
    });
  }

  it('waits for a start whose shell has not recorded itself yet, found by its command line', async () => {
    const pidFile = join(root, `run/kata-deploy/services/${UNIT}.pid`);
    await mkdir(join(root, 'run/kata-deploy/services'), { recursive: true });
    // The marker of a start that began long ago: only the shell's command line tells it is still under way.
    await writeFile(`${pidFile}.starting`, `${Date.now() - 60_000}\n`);
    const slow = spawn(
      '/bin/sh',
      ['-c', `sleep 0.5; ${RECORD_THEN_EXEC}`, WRAPPER_NAME, pidFile, `${pidFile}.tmp`, '/bin/sleep', token],
      { detached: true, stdio: 'ignore' },
    );
    slow.unref();
    await supervisor().start(UNIT);
    await assertOneTrackedThenStop('a slow record');
  });

  it('a marker with no start shell behind it does not hold a start up', async () => {
    await writeFile(join(root, `run/kata-deploy/services/${UNIT}.pid.starting`), `${Date.now() - 60_000}\n`);
    const started = Date.now();
    await supervisor().start(UNIT);
    assert.ok(Date.now() - started < 1_000);
    await assertOneTrackedThenStop('a stale marker');
  });

  it('killed from outside at random moments of a start, then started again: one service', async () => {
    announceSeed('process supervisor');
    const rng = rngFor('supervisor');
    for (let i = 0; i < 8; i++) {
      const delay = rng.int(0, 400);
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', HOST_CHILD, JSON.stringify({ op: 'start', root, unit: UNIT })],
        { stdio: ['ignore', 'pipe', 'ignore'] },
      );
      const exited = new Promise((r) => child.once('exit', r));
      await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
      await new Promise((r) => setTimeout(r, delay));
      child.kill('SIGKILL');
      await exited;
      await supervisor().start(UNIT);
      await assertOneTrackedThenStop(`killed ${delay} ms into a start`);
    }
  });
});

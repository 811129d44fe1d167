/**
 * The node as a pod sees it, on the systemd bed (containerd 2.1 as the node's `containerd.service`): the wipe
 * gate reads the node's mount table and unmounts in the node's mount namespace, not the pod's; a pod outside
 * the node's PID namespace is refused (exit 2, naming hostPID: true) before anything is written; two pods'
 * runs serialise on the node's lock in the node's /run/lock.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { run, type RunResult } from '../bed/exec.js';
import { sleep } from '../bed/processes.js';
import { POD_HOST_ROOT, startSystemdNode, type SystemdNode } from '../bed/systemd/index.js';
import { assemblePayload } from '../../sandbox/payload.js';
import { CLI, REPO_ROOT } from '../support/cli.js';
import { snapshotTree } from '../support/node-tree.js';

const NYDUS = 'nydus-for-kata-tee';
const DATA_DIR = `/var/lib/${NYDUS}`;
const LOCK = '/run/lock/kata-deploy.lock';
const VOLATILE = new Set(['run', 'tmp', 'var/tmp', 'var/log', 'var/lib/systemd', 'var/lib/containerd']);
const ENV = { NODE_NAME: 'node-view', SHIMS_X86_64: 'qemu' };
const NYDUS_ENV = {
  ...ENV,
  EXPERIMENTAL_SETUP_SNAPSHOTTER: 'nydus',
  SNAPSHOTTER_HANDLER_MAPPING_X86_64: 'qemu:nydus',
};

let work: string;
let payload: string;
let node: SystemdNode;

before(async () => {
  work = await mkdtemp('/tmp/kd-sdnv-');
  payload = (await assemblePayload(join(work, 'payload'))).dir;
  node = await startSystemdNode('2.1');
});

after(async () => {
  try {
    await node?.bed.teardown();
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});

function ok(r: RunResult, what: string): RunResult {
  assert.equal(r.code, 0, `${what} failed (${r.code}, ${r.signal}):\n${r.stderr}\n${r.stdout}`);
  return r;
}

const install = (env: Record<string, string>, extra: string[] = []) =>
  node.cli(['install', '--artifacts-dir', payload, ...extra], env);
const cleanup = (env: Record<string, string>, extra: string[] = []) => node.cli(['cleanup', ...extra], env);

/** A shell command in the node's mount namespace (systemd's), as the node's own tools would run it. */
const onNode = (script: string, allowFail = false) =>
  run('nsenter', ['--target', String(node.bed.pid), '--mount', '--', '/bin/sh', '-c', script], {
    timeoutMs: 30_000,
    allowFail,
  });

/** Mount points at or below the data dir in the node's mount table (PID 1's mountinfo, node paths). */
const nodeMountsAtDataDir = () =>
  readFileSync(`/proc/${node.bed.pid}/mountinfo`, 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => p === DATA_DIR || p.startsWith(`${DATA_DIR}/`));

interface Outcome {
  decision: string;
  reasons: string[];
}
const outcomes = (r: RunResult) => (JSON.parse(r.stdout) as { snapshotters?: Outcome[] }).snapshotters ?? [];

describe('systemd bed: kata-deploy in a pod outside the node’s PID namespace', () => {
  it('is refused with exit 2 naming hostPID: true, before anything is written (detected runtime, and --runtime given)', async () => {
    const before = await snapshotTree(node.bed.root, VOLATILE);
    for (const extra of [[], ['--runtime', 'containerd']]) {
      // The pod's own PID namespace (no hostPID): /proc is its own, the node's /proc stays at /mnt/host/proc.
      const r = await node.bed.inPod(
        'unshare',
        [
          '--pid',
          '--fork',
          '--mount-proc',
          '--',
          process.execPath,
          CLI,
          'install',
          '--artifacts-dir',
          payload,
          '--host-root',
          POD_HOST_ROOT,
          '--service-manager',
          'systemd',
          ...extra,
        ],
        { env: ENV, cwd: REPO_ROOT },
      );
      const what = `install ${extra.join(' ')} (${r.code}):\n${r.stderr}\n${r.stdout}`;
      assert.equal(r.code, 2, what);
      assert.match(r.stderr, /hostPID: true/, what);
      assert.match(
        r.stderr,
        new RegExp(
          `not in the node's PID namespace \\(its own is pid:\\[\\d+\\]; the node's PID 1 under ${POD_HOST_ROOT}/proc is in pid:\\[\\d+\\]\\)`,
        ),
        what,
      );
      assert.deepEqual(await snapshotTree(node.bed.root, VOLATILE), before, `nothing written: ${what}`);
      assert.equal(existsSync(node.bed.at(LOCK)), false, 'no lock file');
    }
  });
});

/** This machine's pid of a process that is `bedPid` in the bed's PID namespace. */
function machinePid(bedPid: number): number | undefined {
  const ns = readlinkSync(`/proc/${node.bed.pid}/ns/pid`);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/pid`) !== ns) continue;
      const nspid = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1];
      if (nspid?.trim().split(/\s+/).at(-1) === String(bedPid)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

/** Processes (this machine's pids) that have the node's lock file open, as a pod names it. */
function lockOpeners(): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      for (const fd of readdirSync(`/proc/${entry}/fd`)) {
        if (readlinkSync(`/proc/${entry}/fd/${fd}`) === `${POD_HOST_ROOT}${LOCK}`) found.push(Number(entry));
      }
    } catch {
      // gone meanwhile, or not ours to look at
    }
  }
  return found;
}

async function waitFor<T>(what: string, f: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

describe('systemd bed: two pods on one node', () => {
  it("serialise on the node lock in the node's /run/lock: the second waits for the first, then plans again", async () => {
    const before = await snapshotTree(node.bed.root, VOLATILE);
    let firstDone = false;
    const first = install(ENV).finally(() => (firstDone = true));
    // The first pod holds the lock once the node's /run/lock/kata-deploy.lock names it.
    const holder = await waitFor('the first pod to hold the lock', () => {
      assert.equal(firstDone, false, 'the first install ended before it was seen holding the lock');
      const m = /^(\d+) \d+\n$/.exec(
        existsSync(node.bed.at(LOCK)) ? readFileSync(node.bed.at(LOCK), 'utf8') : '',
      );
      return m === null ? undefined : Number(m[1]);
    });
    const holderHere = machinePid(holder);
    assert.ok(
      holderHere !== undefined,
      `pid ${holder} of the bed's PID namespace is the first pod's kata-deploy`,
    );
    // Stopped while it holds the lock, so that the second pod certainly meets it held. The pod's nsenter, its
    // parent, stops itself when it sees its child stop (util-linux passes job control on): it is continued too.
    const parent = Number(/^PPid:\s+(\d+)$/m.exec(readFileSync(`/proc/${holderHere}/status`, 'utf8'))?.[1]);
    process.kill(holderHere, 'SIGSTOP');
    let second: Promise<RunResult> | undefined;
    try {
      second = install(ENV);
      await waitFor('the second pod to open the lock', () => {
        const openers = lockOpeners();
        return openers.some((p) => p !== holderHere) ? openers : undefined;
      });
      await sleep(300);
      assert.ok(existsSync(node.bed.at(LOCK)), 'the lock is in the node’s /run/lock while held');
    } finally {
      process.kill(holderHere, 'SIGCONT');
      process.kill(parent, 'SIGCONT');
    }
    const a = ok(await first, 'first install');
    const b = ok(await second, 'second install');
    assert.doesNotMatch(a.stderr, /waiting for another kata-deploy/);
    assert.match(
      b.stderr,
      new RegExp(`waiting for another kata-deploy \\(pid ${holder}\\) to release the node lock`),
    );
    assert.match(
      b.stdout,
      /applied 1 steps:\n +1\. check that containerd serves/,
      'planned again under the lock',
    );
    assert.equal(existsSync(node.bed.at(LOCK)), false, 'released: no lock file left');
    ok(await cleanup(ENV), 'cleanup');
    assert.deepEqual(await snapshotTree(node.bed.root, VOLATILE), before);
  });
});

describe("systemd bed: the wipe gate judges the node's mounts", () => {
  it("a mount below the data dir in the node's mount namespace only is unmounted there before the dir goes", async () => {
    ok(await install(NYDUS_ENV), 'install with nydus');
    ok(
      await onNode(`mkdir -p ${DATA_DIR}/kd-probe && mount -t tmpfs kd-probe ${DATA_DIR}/kd-probe`),
      'mount',
    );
    assert.deepEqual(nodeMountsAtDataDir(), [`${DATA_DIR}/kd-probe`]);
    const pod = await node.bed.inPod('/bin/sh', [
      '-c',
      `grep -c ' ${POD_HOST_ROOT}${DATA_DIR}/' /proc/self/mountinfo || true`,
    ]);
    assert.equal(pod.stdout.trim(), '0', "the pod's own mount table does not show it");

    const cleaned = outcomes(ok(await cleanup(NYDUS_ENV, ['--json']), 'cleanup'));
    assert.equal(cleaned[0]?.decision, 'wiped', JSON.stringify(cleaned));
    assert.equal(existsSync(node.bed.at(DATA_DIR)), false, 'data dir gone');
    assert.deepEqual(nodeMountsAtDataDir(), [], "the node's mount table is clean");
  });

  it('a node mount that cannot be unmounted keeps the dir, and says so', async () => {
    ok(await install(NYDUS_ENV), 'install with nydus');
    // kd-hidden sits under a tmpfs mounted over the data dir itself: its path leads to the upper mount, so
    // umount cannot reach it, while the node's mount table still lists it.
    ok(
      await onNode(
        `mkdir -p ${DATA_DIR}/kd-hidden && mount -t tmpfs kd-hidden ${DATA_DIR}/kd-hidden && mount -t tmpfs kd-over ${DATA_DIR}`,
      ),
      'mounts',
    );
    try {
      const cleaned = outcomes(ok(await cleanup(NYDUS_ENV, ['--json']), 'cleanup'));
      assert.equal(cleaned[0]?.decision, 'kept', JSON.stringify(cleaned));
      assert.match(
        cleaned[0]?.reasons.join('; ') ?? '',
        new RegExp(`still mounted below the data dir: ${DATA_DIR}/kd-hidden \\(`),
      );
      assert.ok(
        existsSync(node.bed.at(`${DATA_DIR}/kd-hidden`)),
        'the dir and the mount point in it are kept',
      );
      assert.deepEqual(nodeMountsAtDataDir().sort(), [DATA_DIR, `${DATA_DIR}/kd-hidden`]);
    } finally {
      await onNode(`umount ${DATA_DIR}; umount ${DATA_DIR}/kd-hidden`, true);
      await rm(node.bed.at(DATA_DIR), { recursive: true, force: true });
    }
    assert.deepEqual(nodeMountsAtDataDir(), []);
    assert.equal(await readFile(node.bed.at(LOCK)).catch(() => undefined), undefined);
  });
});

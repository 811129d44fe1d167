/**
 * End to end without a kubelet: kata-deploy's image, built offline by scripts/image/build.sh, imported into the
 * node's containerd 2.1 (the systemd bed: systemd as the node's PID 1, containerd its containerd.service) and run
 * with ctr exactly as the rendered DaemonSet's pod spec says (test/k8s/pod-plan.ts translates it and refuses what
 * it cannot translate), against the test API server and the kubelet double. install → /readyz 200 → SIGTERM
 * (`ctr tasks kill`) → cleanup → the node byte for byte as before; the nydus data dir's outcome is read from the
 * container's log. Then the same with a workload running on nydus: the data is kept and the workload named.
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { link, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import yaml from 'js-yaml';
import { busyboxImage, kubectlBinary, startRegistry, type Registry } from '../bed/index.js';
import { run } from '../bed/exec.js';
import { startSystemdNode, type SystemdNode } from '../bed/systemd/index.js';
import { REPO_ROOT } from '../support/cli.js';
import { snapshotTree } from '../support/node-tree.js';
import { assemblePayload } from '../../sandbox/payload.js';
import { ctrFor, type Ctr } from '../../sandbox/ctr.js';
import { KubeApiDouble } from '../k8s/api-double.js';
import { KubeletDouble } from '../k8s/kubelet-double.js';
import { planPodRun, type PodPlan } from '../k8s/pod-plan.js';
import { capabilitiesNotHeld } from '../support/capabilities.js';
import { footprint, pidsWhere } from '../support/footprint.js';
import { NYDUS_BASE_NAME } from '../../src/names/index.js';

const NS = 'kube-system';
const TOKEN = 'e2e-pod-token';
const NYDUS_DATA = `var/lib/${NYDUS_BASE_NAME}`;
/** What systemd, journald, containerd and the kubelet's pod directories change themselves. */
const VOLATILE = new Set(['run', 'tmp', 'var/tmp', 'var/log', 'var/lib/systemd', 'var/lib/containerd']);
const WORKLOAD = 'e2e-workload';

let work: string;
let imageTar: string;
let imageSize = '';
let daemonSet: Record<string, unknown>;
let api: KubeApiDouble;
let registry: Registry;
let busyboxRef: string;
let node: SystemdNode;
let ctr: Ctr;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The task's state; undefined while containerd restarts (kata-deploy restarts it) and does not answer. */
async function taskStatus(id: string): Promise<string | undefined> {
  try {
    return (await ctr.task(id))?.status ?? 'gone';
  } catch {
    return undefined;
  }
}

/** A pod left running by a failed case is stopped, whenever containerd answers again. */
async function removePod(id: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await ctr.containers()).includes(id)) await ctr.removeContainer(id);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(500);
    }
  }
}

before(async () => {
  work = await mkdtemp('/tmp/kd-e2e-');
  const payload = (await assemblePayload(join(work, 'payload'))).dir;
  imageTar = join(work, 'kata-deploy.oci.tar');
  const built = await run(
    'bash',
    ['scripts/image/build.sh', '--no-build', '--payload', payload, '--out', imageTar],
    { cwd: REPO_ROOT, timeoutMs: 600_000 },
  );
  imageSize = /wrote .*: (kata-deploy:\S+, .*)$/m.exec(built.stderr)?.[1] ?? built.stderr;
  const rendered = await run(kubectlBinary(), ['kustomize', join(REPO_ROOT, 'test/e2e/overlay')], {
    timeoutMs: 60_000,
  });
  const objects = yaml.loadAll(rendered.stdout) as Record<string, unknown>[];
  daemonSet = objects.find((o) => o['kind'] === 'DaemonSet')!;
  assert.ok(daemonSet, 'the rendered manifests hold a DaemonSet');
  registry = await startRegistry({ root: join(work, 'registry') });
  busyboxRef = await registry.push(await busyboxImage(join(work, 'images')), 'e2e/busybox:1');
  api = await KubeApiDouble.start();
  api.addToken(TOKEN, `system:serviceaccount:${NS}:kata-deploy`);
  node = await startSystemdNode('2.1');
  // A node has them, and a host-network pod gets the node's (ctr run --net-host binds them in).
  for (const [file, text] of [
    ['/etc/hosts', '127.0.0.1 localhost\n'],
    ['/etc/resolv.conf', 'nameserver 127.0.0.1\n'],
  ] as const)
    if (!existsSync(node.bed.at(file))) await writeFile(node.bed.at(file), text);
  const inNode = ['nsenter', '--target', String(node.bed.pid), '--mount', '--pid', '--'];
  ctr = ctrFor(
    node.binaries,
    [...inNode, '/usr/local/bin/ctr', '--address', node.layout.socket],
    [
      // The bed's cgroup v2 has no CPU controller here: no cpu.weight to set.
      '--cpu-shares',
      '0',
    ],
  );
  // The archive names only its tag: --base-name gives it the name the manifest's `image:` normalises to.
  await link(imageTar, node.bed.at('/tmp/kata-deploy.oci.tar'));
  await ctr.run(
    ['images', 'import', '--base-name', 'docker.io/library/kata-deploy', '/tmp/kata-deploy.oci.tar'],
    300_000,
  );
});

after(async () => {
  await node?.bed.teardown();
  await api?.stop();
  await registry?.stop();
  await rm(work, { recursive: true, force: true });
});

/** The pod shares the machine's network (hostNetwork, and the bed has no network namespace of its own). */
async function assertPortFree(port: number): Promise<void> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) =>
      reject(new Error(`port ${port}, the manifest's HEALTH_PORT, is taken on this machine: ${String(e)}`)),
    );
    server.listen(port, () => server.close(() => resolve()));
  });
}

/** The kubelet's side of one pod: its directory on the node, the service account, the termination log. */
async function kubeletPodFiles(uid: string): Promise<{ sa: string; terminationLog: string; log: string }> {
  const podDir = `/var/lib/kubelet/pods/${uid}`;
  api.writeServiceAccount(node.bed.at(podDir), TOKEN, NS);
  const terminationLog = `${podDir}/containers/kata-deploy/termination-log`;
  await mkdir(node.bed.at(`${podDir}/containers/kata-deploy`), { recursive: true });
  await writeFile(node.bed.at(terminationLog), '');
  return {
    sa: `${podDir}/var/run/secrets/kubernetes.io/serviceaccount`,
    terminationLog,
    log: `/var/log/pods/${NS}_kata-deploy-${uid}/kata-deploy/0.log`,
  };
}

interface RunningPod {
  readonly id: string;
  readonly plan: PodPlan;
  readonly readyz: string[];
  readonly log: () => Promise<string>;
  stopPolling(): void;
}

async function startPod(nodeName: string, uid: string): Promise<RunningPod> {
  const files = await kubeletPodFiles(uid);
  const plan = planPodRun(daemonSet, {
    nodeName,
    namespace: NS,
    serviceAccountDir: files.sa,
    terminationLog: files.terminationLog,
    // The node's systemd, whose bounding set its containerd.service inherits.
    capabilitiesNotHeld: await capabilitiesNotHeld(node.bed.pid),
    apiHost: '127.0.0.1',
    apiPort: api.port,
  });
  await assertPortFree(plan.readinessProbe.port);
  const id = `kata-deploy-${uid}`;
  const image = plan.image.includes('/') ? plan.image : `docker.io/library/${plan.image}`;
  await mkdir(node.bed.at(files.log.slice(0, files.log.lastIndexOf('/'))), { recursive: true });
  await ctr.run([
    'run',
    '--detach',
    '--log-uri',
    `file://${files.log}`,
    '--cgroup',
    `/kubepods/${id}`,
    '--cpu-shares',
    '0',
    ...plan.flags,
    image,
    id,
    ...plan.argv,
  ]);
  const readyz: string[] = [];
  let polling = true;
  void (async () => {
    while (polling) {
      let answer: string;
      try {
        const r = await fetch(`http://127.0.0.1:${plan.readinessProbe.port}${plan.readinessProbe.path}`, {
          signal: AbortSignal.timeout(2000),
        });
        answer = String(r.status);
      } catch {
        answer = 'refused';
      }
      if (readyz.at(-1) !== answer) readyz.push(answer);
      await sleep(100);
    }
  })();
  return {
    id,
    plan,
    readyz,
    log: () => readFile(node.bed.at(files.log), 'utf8').catch(() => ''),
    stopPolling: () => (polling = false),
  };
}

/** Ready within the startup probe's budget (failureThreshold × periodSeconds), the task running throughout. */
async function waitReady(pod: RunningPod): Promise<void> {
  const { startupProbe, livenessProbe } = pod.plan;
  const deadline = Date.now() + startupProbe.failureThreshold * startupProbe.periodSeconds * 1000;
  while (pod.readyz.at(-1) !== '200') {
    const status = await taskStatus(pod.id);
    if (status !== undefined && status !== 'RUNNING')
      throw new Error(`the pod's task is ${status}:\n${await pod.log()}`);
    if (Date.now() > deadline) throw new Error(`/readyz never answered 200:\n${await pod.log()}`);
    await sleep(200);
  }
  const health = await fetch(`http://127.0.0.1:${livenessProbe.port}${livenessProbe.path}`);
  assert.equal(health.status, 200, 'the liveness probe answers');
}

/** SIGTERM as the kubelet sends it, then the grace period the manifest gives; the pod is gone after. */
async function terminate(pod: RunningPod): Promise<void> {
  await ctr.run(['tasks', 'kill', '--signal', 'SIGTERM', pod.id]);
  const deadline = Date.now() + pod.plan.terminationGracePeriodSeconds * 1000;
  for (;;) {
    const status = await taskStatus(pod.id);
    if (status === 'STOPPED') break;
    if (Date.now() > deadline)
      throw new Error(`still ${status ?? 'unknown'} after the grace period:\n${await pod.log()}`);
    await sleep(250);
  }
  pod.stopPolling();
  await removePod(pod.id);
}

function quote(t: TestContext, pod: RunningPod, what: string, log: string): void {
  t.diagnostic(`e2e ${what}: image ${imageSize}`);
  t.diagnostic(
    `e2e ${what}: ctr run ${pod.plan.flags.join(' ')} ${pod.plan.image} ${pod.id} ${pod.plan.argv.join(' ')}`,
  );
  t.diagnostic(`e2e ${what}: /readyz ${pod.readyz.join(' → ')}`);
  for (const line of log
    .split('\n')
    .filter((l) => /nydus|cleanup|uninstall|ready|install/i.test(l))
    .slice(-12))
    t.diagnostic(`e2e ${what}: log | ${line}`);
}

/**
 * The waiting process of the pod (the image's Debian node), for the record: RSS over 10 s of probes, and its
 * peak. A figure, not a gate: bench/daemonset-idle.bench.ts is where the footprint is measured.
 */
async function quoteFootprint(t: TestContext): Promise<void> {
  const [pid] = await pidsWhere(
    (argv) => argv.includes('/usr/lib/kata-deploy/bin/kata-deploy.js') && !argv.includes('--daemonset-step'),
  );
  if (pid === undefined) return t.diagnostic('e2e footprint: the waiting process was not found');
  const rss: number[] = [];
  for (let i = 0; i < 10; i++) {
    rss.push((await footprint(pid)).rss);
    await sleep(1000);
  }
  const last = await footprint(pid);
  const mib = (k: number) => (k / 1024).toFixed(1);
  t.diagnostic(
    `e2e footprint: waiting process RSS ${mib(Math.min(...rss))}–${mib(Math.max(...rss))} MiB (file ${mib(last.file)}, anon ${mib(last.anon)}, PSS ${mib(last.pss)}), peak ${mib(last.hwm)} MiB`,
  );
}

const tree = (extra: string[] = []) => snapshotTree(node.bed.root, new Set([...VOLATILE, ...extra]));

/**
 * One pod's life on the node, as the kubelet and a user would go through it: the pod files, the DaemonSet, the
 * pod started and ready (Kata installed, the node labelled), `whileReady`, then the DaemonSet deleted and
 * SIGTERM. Returns the node's files from before the pod and the container's log.
 */
async function podLifecycle(
  t: TestContext,
  what: string,
  nodeName: string,
  whileReady: () => Promise<void> = async () => undefined,
): Promise<{ before: Awaited<ReturnType<typeof tree>>; log: string }> {
  api.addNode(nodeName);
  const kubelet = new KubeletDouble(api, nodeName, node.socket);
  kubelet.start();
  const uid = randomBytes(4).toString('hex');
  await kubeletPodFiles(uid);
  const before = await tree();
  const pod = await startPod(nodeName, uid);
  try {
    api.addDaemonSet(NS, pod.plan.daemonSet);
    await waitReady(pod);
    assert.ok(
      existsSync(node.bed.at('/opt/kata/bin/containerd-shim-kata-v2')),
      'Kata is installed on the node',
    );
    const labels = (api.node(nodeName)!['metadata'] as { labels: Record<string, string> }).labels;
    assert.equal(labels['katacontainers.io/kata-runtime'], 'true');
    await whileReady();
    api.deleteDaemonSet(NS, pod.plan.daemonSet);
    await terminate(pod);
    const log = await pod.log();
    quote(t, pod, what, log);
    const terminationLog = `/var/lib/kubelet/pods/${uid}/containers/kata-deploy/termination-log`;
    assert.equal(await readFile(node.bed.at(terminationLog), 'utf8'), '', 'no failure, no last words');
    return { before, log };
  } catch (error) {
    t.diagnostic(`e2e ${what}: /readyz ${pod.readyz.join(' → ')}\n${await pod.log()}`);
    throw error;
  } finally {
    pod.stopPolling();
    kubelet.stop();
    await removePod(pod.id);
  }
}

describe('the image, run as the rendered DaemonSet says, on containerd 2.1 with nydus', () => {
  it('install → /readyz 200 → SIGTERM → cleanup: the node byte for byte as before, the nydus data dir wiped', async (t) => {
    const { before, log } = await podLifecycle(t, 'uninstall', 'e2e-node', () => quoteFootprint(t));
    assert.match(
      log,
      /nydus-for-kata-tee: \/var\/lib\/nydus-for-kata-tee wiped/,
      'the outcome is in the log',
    );
    assert.deepEqual(await tree(), before, 'the node byte for byte as before');
  });

  it('a workload running on nydus: cleanup keeps the data dir and names the workload', async (t) => {
    try {
      const { before, log } = await podLifecycle(t, 'workload', 'e2e-node-workload', async () => {
        await ctr.pull(busyboxRef, NYDUS_BASE_NAME);
        await ctr.runContainer(WORKLOAD, busyboxRef, NYDUS_BASE_NAME, 'kubepods');
      });
      assert.match(
        log,
        new RegExp(`${NYDUS_DATA} kept.*held by k8s.io/${WORKLOAD} \\(task RUNNING\\)`),
        'kept, and why',
      );
      assert.ok(existsSync(node.bed.at(`/${NYDUS_DATA}`)), 'the data dir is still there');
      assert.equal((await ctr.task(WORKLOAD))?.status, 'RUNNING', 'the workload still runs');
      assert.deepEqual(await tree([NYDUS_DATA]), before, 'everything else byte for byte as before');
    } finally {
      // Its snapshotter is gone from containerd's configuration with the uninstall: the container record stays
      // (the data dir was kept for it), and the bed goes with the test file.
      await ctr.removeContainer(WORKLOAD).catch(() => undefined);
    }
  });
});

/**
 * `kata-deploy install --daemonset` on the bed (real containerd 2.1 with the real nydus-snapshotter, and 1.6)
 * against the test API server (test/k8s/api-double.ts) and a kubelet double that publishes the node's Ready
 * condition and runtime handlers from the bed's containerd. Each case quotes its label timeline and its /readyz
 * transitions in the test output (`# daemonset …` diagnostics).
 */
import { after, before, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { containerdBinaries } from '../bed/index.js';
import { createHost } from '../../src/host/index.js';
import { REPO_ROOT, runCli } from '../support/cli.js';
import { snapshotTree } from '../support/node-tree.js';
import { makePayload } from '../support/snapshotter-node.js';
import { bed21Nydus, plainBed, type Bed } from '../k8s/beds.js';
import { KubeApiDouble, type LabelEvent } from '../k8s/api-double.js';
import { KubeletDouble, type KubeletOptions } from '../k8s/kubelet-double.js';
import { DaemonSetPod } from '../k8s/daemonset-pod.js';

const UNIT = 'containerd.service';
const NS = 'kube-system';
const TOKEN = 'pod-token';
const USER = `system:serviceaccount:${NS}:kata-deploy`;
const SHARED = 'katacontainers.io/kata-runtime';
const STARTUP_TAINT = 'kata.katacontainers.io/not-ready';
/** What containerd itself changes in the sandbox; everything else must come back byte for byte. */
const VOLATILE = new Set(['run', 'var/lib/containerd', 'var/lib/containerd-opt', 'var/log']);

let api: KubeApiDouble;
let work: string;
let nydusPayload: string;

before(async () => {
  work = await mkdtemp('/tmp/kd-ds-');
  api = await KubeApiDouble.start();
  api.addToken(TOKEN, USER);
  api.writeServiceAccount(join(work, 'pod'), TOKEN, NS);
  await writeFile(join(work, 'termination-log'), '');
  nydusPayload = await makePayload(work);
});
after(async () => {
  await api.stop();
  await rm(work, { recursive: true, force: true });
});

const pods: DaemonSetPod[] = [];
after(async () => {
  for (const p of pods) await p.kill();
});

function pod(bed: Bed, node: string, env: Record<string, string> = {}, extra: string[] = []): DaemonSetPod {
  const p = new DaemonSetPod({
    args: [
      '--host-root',
      bed.root,
      '--service-manager',
      'process',
      '--runtime',
      'containerd',
      '--containerd-bin',
      containerdBinaries(bed.version).containerd,
      '--artifacts-dir',
      bed.payload,
      '--termination-log',
      join(work, 'termination-log'),
      '--json',
      '--log-level',
      'info',
      ...extra,
    ],
    env: {
      NODE_NAME: node,
      KUBERNETES_SERVICE_HOST: '127.0.0.1',
      KUBERNETES_SERVICE_PORT: String(api.port),
      KATA_DEPLOY_TEST_SERVICEACCOUNT_PREFIX: join(work, 'pod'),
      KATA_DEPLOY_TEST_TIME_SCALE: '0.1',
      ...bed.env,
      ...env,
    },
  });
  pods.push(p);
  return p;
}

/**
 * Runs a case on `bed` with the kubelet double for `kubelet.node`; the case's pods, the kubelet and the bed end
 * after it.
 */
async function onBed(
  bed: Bed,
  kubelet: { readonly node: string } & KubeletOptions,
  body: (kubelet: KubeletDouble) => Promise<void>,
): Promise<void> {
  const double = new KubeletDouble(api, kubelet.node, bed.socket, kubelet);
  double.start();
  try {
    await body(double);
  } finally {
    double.stop();
    for (const p of pods) await p.kill();
    await bed.dispose();
  }
}

const snapshot = (root: string) => snapshotTree(root, VOLATILE);

/** The kata labels of one node over time: `(none)`, or the shared label first, then the markers. */
function timeline(node: string): string[] {
  return api.timeline
    .filter((e: LabelEvent) => e.node === node)
    .map((e) => {
      const entries = Object.entries(e.labels).sort(
        ([a], [b]) => Number(b === SHARED) - Number(a === SHARED),
      );
      return entries.length === 0
        ? '(none)'
        : entries.map(([k, v]) => `${k.replace('kata-deploy.katacontainers.io/', 'marker/')}=${v}`).join(',');
    });
}

function quote(t: TestContext, node: string, p: DaemonSetPod, what = ''): void {
  t.diagnostic(`daemonset ${node}${what}: labels ${timeline(node).join(' → ')}`);
  t.diagnostic(`daemonset ${node}${what}: /readyz ${p.readyzTransitions}`);
}

const terminationLog = () => readFile(join(work, 'termination-log'), 'utf8');

async function containerdPid(bed: Bed): Promise<string | undefined> {
  return (await bed.host.readText(`/run/kata-deploy/services/${UNIT}.pid`))?.split(' ')[0];
}

describe('kata-deploy install --daemonset', () => {
  it('containerd 2.1 + nydus: install → false → true + marker → /readyz 200 → SIGTERM (DaemonSet deleted) → labels gone → node as before', async (t) => {
    const bed = await bed21Nydus(nydusPayload);
    const node = 'node-21';
    api.addNode(node, {}, [
      { key: STARTUP_TAINT, effect: 'NoSchedule' },
      { key: 'other', effect: 'NoSchedule' },
    ]);
    api.addDaemonSet(NS, 'kata-deploy');
    await onBed(bed, { node }, async () => {
      const before = await snapshot(bed.root);
      const p = pod(bed, node, { STARTUP_TAINTS: `${STARTUP_TAINT}:NoSchedule` });
      await p.waitReadyz(200);
      assert.deepEqual(timeline(node), [
        '(none)',
        `${SHARED}=false,marker/default=false`,
        `${SHARED}=true,marker/default=true`,
      ]);
      const taints = (api.node(node)!['spec'] as { taints: { key: string }[] }).taints.map((x) => x.key);
      assert.deepEqual(taints, ['other'], 'the startup taint is gone, the other one stays');
      assert.ok((await snapshot(bed.root))['opt/kata/bin/containerd-shim-kata-v2'], 'installed');

      api.deleteDaemonSet(NS, 'kata-deploy');
      p.signal('SIGTERM');
      const r = await p.result();
      quote(t, node, p);
      assert.equal(r.code, 0, p.stderr);
      assert.equal(timeline(node).at(-1), '(none)');
      assert.match(p.readyzTransitions, /^503 → 200 → 503 → refused$|^503 → 200 → refused$/);
      const cleanup = (
        r.json['cleanup'] as {
          outcome: { decision: string; lifecycle: { snapshotters: { decision: string }[] } };
        }
      ).outcome;
      assert.equal(cleanup.decision, 'uninstalled');
      assert.equal(
        cleanup.lifecycle.snapshotters[0]?.decision,
        'wiped',
        'nothing used nydus: its data dir goes',
      );
      assert.deepEqual(await snapshot(bed.root), before, 'the node byte for byte as before');
      assert.equal(await terminationLog(), '', 'no failure, no last words');
    });
  });

  it('containerd 1.6, off-cluster (--kubeconfig), a kubelet without runtimeHandlers: ready on the CRI check, handlers unknown', async (t) => {
    const bed = await plainBed('1.6');
    const node = 'node-16';
    api.addNode(node);
    await onBed(bed, { node, reportHandlers: false }, async () => {
      const before = await snapshot(bed.root);
      const kubeconfig = api.writeKubeconfig(await mkdtemp(join(work, 'kc-')), TOKEN);
      const p = pod(bed, node, { KUBERNETES_SERVICE_HOST: '', KUBERNETES_SERVICE_PORT: '' }, [
        '--kubeconfig',
        kubeconfig,
      ]);
      await p.waitReadyz(200);
      api.deleteDaemonSet(NS, 'kata-deploy');
      p.signal('SIGTERM');
      const r = await p.result();
      quote(t, node, p);
      assert.equal(r.code, 0, p.stderr);
      const install = (r.json['install'] as { outcome: { nodeEvidence: { kind: string; status: string }[] } })
        .outcome;
      assert.deepEqual(
        install.nodeEvidence.map((e) => `${e.kind}:${e.status}`),
        ['node-ready:seen', 'node-runtime-handlers:not-seen'],
      );
      assert.deepEqual(timeline(node), [
        '(none)',
        `${SHARED}=false,marker/default=false`,
        `${SHARED}=true,marker/default=true`,
        '(none)',
      ]);
      assert.match(p.readyzTransitions, /^503 → 200 → (503 → )?refused$/);
      assert.deepEqual(await snapshot(bed.root), before);
    });
  });

  it('a rolling restart (the DaemonSet still selects the node) leaves the node installed; the next pod is ready without a restart', async (t) => {
    const bed = await plainBed('2.1');
    const node = 'node-rolling';
    api.addNode(node, { 'kubernetes.io/arch': 'amd64' });
    api.addDaemonSet(NS, 'kata-deploy', { nodeSelector: { 'kubernetes.io/arch': 'amd64' } });
    await onBed(bed, { node }, async () => {
      const before = await snapshot(bed.root);
      const first = pod(bed, node);
      await first.waitReadyz(200);
      const installed = await snapshot(bed.root);
      const pid = await containerdPid(bed);
      first.signal('SIGTERM');
      const r1 = await first.result();
      quote(t, node, first, ' (old pod)');
      assert.equal(r1.code, 0, first.stderr);
      const kept = (r1.json['cleanup'] as { outcome: { decision: string; reason: string } }).outcome;
      assert.equal(kept.decision, 'kept');
      assert.match(kept.reason, /still selects node node-rolling \(a rolling restart\)/);
      assert.deepEqual(await snapshot(bed.root), installed, 'nothing was removed');
      assert.equal(await containerdPid(bed), pid, 'containerd was not restarted');
      assert.equal(timeline(node).at(-1), `${SHARED}=true,marker/default=true`);

      const second = pod(bed, node);
      await second.waitReadyz(200);
      assert.equal(await containerdPid(bed), pid, 'the new pod found the node installed: no restart');
      assert.deepEqual(
        timeline(node),
        ['(none)', `${SHARED}=false,marker/default=false`, `${SHARED}=true,marker/default=true`],
        'the labels never went back to false',
      );

      api.deleteDaemonSet(NS, 'kata-deploy');
      second.signal('SIGTERM');
      const r2 = await second.result();
      quote(t, node, second, ' (new pod)');
      assert.equal(r2.code, 0, second.stderr);
      assert.equal(installOf(r2.json).lifecycle.restarted, false, 'its install restarted nothing');
      assert.deepEqual(await snapshot(bed.root), before);
      assert.equal(timeline(node).at(-1), '(none)');
    });
  });

  it('two installs with different suffixes share the label: the first out keeps it, the last removes it', async (t) => {
    const bed = await plainBed('2.1');
    const node = 'node-two';
    api.addNode(node);
    api.addDaemonSet(NS, 'kata-deploy');
    api.addDaemonSet(NS, 'kata-deploy-b');
    await onBed(bed, { node }, async () => {
      const before = await snapshot(bed.root);
      const a = pod(bed, node);
      await a.waitReadyz(200);
      const b = pod(bed, node, { MULTI_INSTALL_SUFFIX: 'b', DAEMONSET_NAME: 'kata-deploy-b' });
      await b.waitReadyz(200);
      assert.equal(timeline(node).at(-1), `${SHARED}=true,marker/b=true,marker/default=true`);

      api.deleteDaemonSet(NS, 'kata-deploy-b');
      b.signal('SIGTERM');
      const rb = await b.result();
      assert.equal(rb.code, 0, b.stderr);
      assert.equal(
        (rb.json['cleanup'] as { outcome: { release: { shared: string } } }).outcome.release.shared,
        'keep',
      );
      assert.equal(timeline(node).at(-1), `${SHARED}=true,marker/default=true`);
      assert.equal(await a.readyzNow(), 200, 'the other install stays ready');

      api.deleteDaemonSet(NS, 'kata-deploy');
      a.signal('SIGTERM');
      const ra = await a.result();
      quote(t, node, a, ' (install a)');
      quote(t, node, b, ' (install b)');
      assert.equal(ra.code, 0, a.stderr);
      assert.equal(
        (ra.json['cleanup'] as { outcome: { release: { shared: string } } }).outcome.release.shared,
        'remove',
      );
      assert.equal(timeline(node).at(-1), '(none)');
      assert.deepEqual(await snapshot(bed.root), before);
    });
  });

  it('the kubelet drops the labels once: they are set again and must hold again', async (t) => {
    const bed = await plainBed('2.1');
    const node = 'node-drop';
    api.addNode(node);
    api.addDaemonSet(NS, 'kata-deploy');
    await onBed(bed, { node }, async (kubelet) => {
      kubelet.dropLabelsOnce();
      const p = pod(bed, node);
      await p.waitReadyz(200);
      assert.equal(kubelet.dropped, 1);
      assert.deepEqual(timeline(node), [
        '(none)',
        `${SHARED}=false,marker/default=false`,
        `${SHARED}=true,marker/default=true`,
        '(none)',
        `${SHARED}=true,marker/default=true`,
      ]);
      assert.match(p.stderr, /labels changed after they were set \(check \d of attempt 1\)/);
      api.deleteDaemonSet(NS, 'kata-deploy');
      p.signal('SIGTERM');
      const r = await p.result();
      assert.equal(r.code, 0, p.stderr);
      assert.deepEqual(installOf(r.json).labels, { attempts: 2, dropped: 1 });
      quote(t, node, p);
    });
  });

  it('RBAC denied: patch nodes at install (exit 2, nothing written), get daemonsets at cleanup (exit 2, node kept)', async (t) => {
    const bed = await plainBed('2.1');
    const node = 'node-rbac';
    api.addNode(node);
    api.addDaemonSet(NS, 'kata-deploy');
    await onBed(bed, { node }, async () => {
      const before = await snapshot(bed.root);
      await writeFile(join(work, 'termination-log'), '');
      api.deny('patch', 'nodes', USER);
      const denied = pod(bed, node);
      const r = await denied.result();
      api.allowAll();
      quote(t, node, denied, ' (patch denied)');
      assert.equal(r.code, 2, denied.stderr);
      assert.match(
        denied.stderr,
        /RBAC denied patch nodes\/node-rbac: the service account may not "patch" nodes/,
      );
      assert.match(await terminationLog(), /^kata-deploy install: RBAC denied patch nodes\/node-rbac/);
      assert.equal((r.json['install'] as { error: { kind: string } }).error.kind, 'KubeDeniedError');
      assert.ok(!denied.readyz.some((e) => e.answer === 200), 'never ready');
      assert.deepEqual(await snapshot(bed.root), before, 'nothing written on the node');
      assert.deepEqual(timeline(node), ['(none)']);

      await writeFile(join(work, 'termination-log'), '');
      const p = pod(bed, node);
      await p.waitReadyz(200);
      const installed = await snapshot(bed.root);
      api.deleteDaemonSet(NS, 'kata-deploy');
      api.deny('get', 'daemonsets', USER);
      p.signal('SIGTERM');
      const rc = await p.result();
      api.allowAll();
      quote(t, node, p, ' (get daemonsets denied at cleanup)');
      assert.equal(rc.code, 2, p.stderr);
      assert.match(
        await terminationLog(),
        /^kata-deploy cleanup: RBAC denied get daemonsets\/kata-deploy in namespace kube-system/,
      );
      assert.deepEqual(
        await snapshot(bed.root),
        installed,
        'without the DaemonSet seen, the node stays installed',
      );
      assert.equal(timeline(node).at(-1), `${SHARED}=true,marker/default=true`);
    });
  });

  it('SIGTERM in the middle of install undoes the applied steps; a second SIGTERM changes nothing', async (t) => {
    const bed = await plainBed('2.1');
    const node = 'node-midway';
    api.addNode(node);
    await onBed(bed, { node }, async () => {
      const before = await snapshot(bed.root);
      const p = pod(bed, node, { KATA_DEPLOY_TEST_STEP_DELAY_MS: '150' });
      await p.waitLog(/test hook: step 8 /);
      p.signal('SIGTERM');
      await p.waitLog(/cleanup: starting/);
      p.signal('SIGTERM');
      const r = await p.result();
      quote(t, node, p);
      assert.equal(r.code, 0, p.stderr);
      const install = r.json['install'] as { interrupted: boolean; error: { message: string } };
      assert.equal(install.interrupted, true);
      assert.match(install.error.message, /stopped by a signal before step (8|9)/);
      assert.match(p.stderr, /SIGTERM again: already stopping/);
      assert.equal((r.json['cleanup'] as { outcome: { decision: string } }).outcome.decision, 'uninstalled');
      assert.deepEqual(await snapshot(bed.root), before, 'the applied steps were undone');
      assert.deepEqual(timeline(node), ['(none)', `${SHARED}=false,marker/default=false`, '(none)']);
      assert.match(p.readyzTransitions, /^503 → refused$/);
    });
  });

  it('SIGTERM in the middle of install during a rolling restart keeps the partial install; the next pod completes it', async (t) => {
    const bed = await plainBed('2.1');
    const node = 'node-midroll';
    api.addNode(node);
    api.addDaemonSet(NS, 'kata-deploy');
    await onBed(bed, { node }, async () => {
      const before = await snapshot(bed.root);
      const first = pod(bed, node, { KATA_DEPLOY_TEST_STEP_DELAY_MS: '150' });
      await first.waitLog(/test hook: step 8 /);
      first.signal('SIGTERM');
      const r1 = await first.result();
      quote(t, node, first, ' (old pod, stopped mid-install)');
      assert.equal(r1.code, 0, first.stderr);
      assert.equal((r1.json['cleanup'] as { outcome: { decision: string } }).outcome.decision, 'kept');
      const partial = await snapshot(bed.root);
      assert.notDeepEqual(partial, before, 'part of the install was applied and kept');
      assert.equal(timeline(node).at(-1), `${SHARED}=false,marker/default=false`, 'still claimed');

      const second = pod(bed, node);
      await second.waitReadyz(200);
      api.deleteDaemonSet(NS, 'kata-deploy');
      second.signal('SIGTERM');
      const r2 = await second.result();
      quote(t, node, second, ' (new pod)');
      assert.equal(r2.code, 0, second.stderr);
      assert.deepEqual(await snapshot(bed.root), before);
      assert.equal(timeline(node).at(-1), '(none)');
    });
  });

  it('an API that answers 503 at start is retried with backoff (/readyz stays 503); one that never answers ends the run, bounded', async (t) => {
    const bed = await plainBed('2.1');
    const node = 'node-flaky';
    api.addNode(node);
    api.addDaemonSet(NS, 'kata-deploy');
    await onBed(bed, { node }, async () => {
      const before = await snapshot(bed.root);
      const unreachable = pod(bed, node, {
        KUBERNETES_SERVICE_PORT: '1',
        KATA_DEPLOY_TEST_TIME_SCALE: '0.01',
      });
      const r = await unreachable.result();
      quote(t, node, unreachable, ' (unreachable)');
      assert.equal(r.code, 1, unreachable.stderr);
      assert.match(
        unreachable.stderr,
        /get nodes\/node-flaky failed \(no answer: .*\); gave up after \d+ attempt\(s\)/,
      );
      assert.ok(!unreachable.readyz.some((e) => e.answer === 200));
      assert.deepEqual(await snapshot(bed.root), before);

      api.inject({ verb: 'get', resource: 'nodes', code: 503, times: 3, retryAfter: 1 });
      const p = pod(bed, node);
      await p.waitReadyz(200);
      assert.equal((p.stderr.match(/503 ServiceUnavailable/g) ?? []).length, 3);
      api.deleteDaemonSet(NS, 'kata-deploy');
      p.signal('SIGTERM');
      assert.equal((await p.result()).code, 0, p.stderr);
      quote(t, node, p, ' (503 three times)');
      assert.deepEqual(await snapshot(bed.root), before);
    });
  });
});

describe('kata-deploy install --daemonset refuses bad input before anything is written', () => {
  it('a bad HEALTH_PORT before the bind, a bad STARTUP_TAINTS in the install worker: exit 2, named, termination log, root untouched', async () => {
    const root = await mkdtemp(join(work, 'refuse-'));
    await mkdir(join(root, 'etc/containerd'), { recursive: true });
    await writeFile(join(root, 'etc/containerd/config.toml'), 'version = 2\n');
    const before = await snapshot(root);
    const bed: Bed = {
      root,
      socket: join(root, 'run/containerd/containerd.sock'),
      host: createHost({ root, serviceManager: 'process' }),
      version: '2.1',
      payload: join(REPO_ROOT, 'test/fixtures/payload'),
      env: { SHIMS_X86_64: 'qemu' },
      dispose: async () => {},
    };
    await writeFile(join(work, 'termination-log'), '');
    const port = pod(bed, 'node-bad', { HEALTH_PORT: '70000' });
    const rp = await port.result();
    assert.equal(rp.code, 2, port.stderr);
    assert.match(port.stderr, /HEALTH_PORT="70000" is not valid: expected a TCP port from 1 to 65535/);
    assert.equal(port.port, undefined, 'nothing was bound');
    assert.match(await terminationLog(), /^kata-deploy install: HEALTH_PORT="70000" is not valid/);

    const taints = pod(bed, 'node-bad', { STARTUP_TAINTS: 'kata/x:Sometimes' });
    const rt = await taints.result();
    assert.equal(rt.code, 2, taints.stderr);
    assert.match(
      taints.stderr,
      /STARTUP_TAINTS="kata\/x:Sometimes" is not valid: expected entries "key" or "key:effect"/,
    );
    assert.match(
      await terminationLog(),
      /^kata-deploy install: STARTUP_TAINTS="kata\/x:Sometimes" is not valid/,
    );
    assert.deepEqual(await snapshot(root), before);
    assert.deepEqual(timeline('node-bad'), []);
  });

  it('--dry-run with --daemonset, and --kubeconfig without it, are usage errors', async () => {
    const dry = await runCli(['install', '--daemonset', '--dry-run'], { env: { NODE_NAME: 'n' } });
    assert.equal(dry.code, 2);
    assert.match(dry.stderr, /--dry-run cannot be combined with --daemonset/);
    const kc = await runCli(['install', '--kubeconfig', '/nowhere', '--dry-run'], {
      env: { NODE_NAME: 'n' },
    });
    assert.equal(kc.code, 2);
    assert.match(kc.stderr, /--kubeconfig is for --daemonset only/);
  });
});

interface InstallJson {
  lifecycle: { restarted: boolean };
  labels: { attempts: number; dropped: number };
}

function installOf(json: Record<string, unknown>): InstallJson {
  return (json['install'] as { outcome: InstallJson }).outcome;
}

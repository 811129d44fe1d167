/**
 * The idle footprint of `kata-deploy install --daemonset`: the process that waits for SIGTERM (the supervisor)
 * after a real install on containerd 2.1 from the bed, against the test API server and the kubelet double,
 * while probes hit /healthz and /readyz once a second as the kubelet's would. Sampled from /proc every second:
 * peak RSS (VmHWM, over the process's whole life), steady RSS (the median of the idle samples), and how the RSS
 * splits into the node binary's file pages (shared, clean) and anonymous memory, with the PSS. The workers'
 * peaks come from their own getrusage.
 *
 *   node --import tsx bench/daemonset-idle.bench.ts [--seconds 60] [--skip-build] [--node-options='<node flags>']
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { containerdBinaries } from '../test/bed/index.js';
import { REPO_ROOT } from '../test/support/cli.js';
import { plainBed, type Bed } from '../test/k8s/beds.js';
import { KubeApiDouble } from '../test/k8s/api-double.js';
import { KubeletDouble } from '../test/k8s/kubelet-double.js';
import { DaemonSetPod } from '../test/k8s/daemonset-pod.js';
import { footprint as sample, type Footprint as Sample } from '../test/support/footprint.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    'skip-build': { type: 'boolean' },
    'node-options': { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const nodeArgs = values['node-options']?.split(/\s+/).filter(Boolean) ?? [];
if (!values['skip-build'])
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: REPO_ROOT, stdio: 'inherit' });

const mib = (k: number) => (k / 1024).toFixed(1);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const work = await mkdtemp('/tmp/kd-bench-ds-');
const api = await KubeApiDouble.start();
const bins = containerdBinaries('2.1');
let bed: Bed | undefined;
let pod: DaemonSetPod | undefined;
let kubelet: KubeletDouble | undefined;
try {
  api.addToken('t', 'system:serviceaccount:kube-system:kata-deploy');
  api.writeServiceAccount(join(work, 'pod'), 't', 'kube-system');
  api.addNode('bench-node');
  bed = await plainBed('2.1');
  const { root, socket } = bed;
  kubelet = new KubeletDouble(api, 'bench-node', socket);
  kubelet.start();

  pod = new DaemonSetPod({
    nodeArgs,
    args: [
      '--host-root',
      root,
      '--service-manager',
      'process',
      '--runtime',
      'containerd',
      '--containerd-bin',
      bins.containerd,
      '--artifacts-dir',
      bed.payload,
      '--json',
      '--log-level',
      'info',
    ],
    env: {
      NODE_NAME: 'bench-node',
      ...bed.env,
      KUBERNETES_SERVICE_HOST: '127.0.0.1',
      KUBERNETES_SERVICE_PORT: String(api.port),
      KATA_DEPLOY_TEST_SERVICEACCOUNT_PREFIX: join(work, 'pod'),
    },
  });
  const started = Date.now();
  await pod.waitReadyz(200, 180_000);
  const readyAfter = Date.now() - started;
  const samples: Sample[] = [];
  for (let i = 0; i < seconds; i++) {
    await fetch(`http://127.0.0.1:${pod.port}/healthz`);
    await fetch(`http://127.0.0.1:${pod.port}/readyz`);
    samples.push(await sample(pod.pid));
    await new Promise((r) => setTimeout(r, 1000));
  }
  api.deleteDaemonSet('kube-system', 'kata-deploy');
  pod.signal('SIGTERM');
  const result = await pod.result();
  const install = result.json['install'] as { maxRssKiB: number };
  const cleanup = result.json['cleanup'] as { maxRssKiB: number };
  const last = samples.at(-1)!;
  const steady = (k: keyof Sample) => median(samples.map((s) => s[k]));
  console.log(
    `install --daemonset${values['node-options'] ? ` (node ${values['node-options']})` : ''} on containerd 2.1 (bed), ready after ${(readyAfter / 1000).toFixed(1)} s; ${seconds} s idle, probed every second; exit ${result.code}`,
  );
  console.log(`waiting process (supervisor, pid ${pod.pid}):`);
  console.log(`  peak RSS (VmHWM)      ${mib(last.hwm)} MiB`);
  console.log(
    `  steady RSS (median)   ${mib(steady('rss'))} MiB   (min ${mib(Math.min(...samples.map((s) => s.rss)))}, max ${mib(Math.max(...samples.map((s) => s.rss)))})`,
  );
  console.log(
    `    of which file-backed ${mib(steady('file'))} MiB (the node executable's pages, shared and clean)`,
  );
  console.log(`    of which anonymous   ${mib(steady('anon'))} MiB (heap, stacks: this process's own)`);
  console.log(`  steady PSS            ${mib(steady('pss'))} MiB`);
  console.log(
    `workers (exited; peak RSS each): install ${mib(install.maxRssKiB)} MiB, cleanup ${mib(cleanup.maxRssKiB)} MiB`,
  );
  const floor = execFileSync(
    process.execPath,
    [
      ...nodeArgs,
      '-e',
      "require('http').createServer((q,s)=>s.end()).listen(0);setTimeout(()=>{const t=require('fs').readFileSync('/proc/self/status','utf8');console.log(/VmRSS:\\s+(\\d+)/.exec(t)[1]);process.exit()},1500)",
    ],
    { encoding: 'utf8' },
  );
  console.log(
    `floor: a bare \`node${nodeArgs.length > 0 ? ` ${nodeArgs.join(' ')}` : ''}\` with an idle HTTP server: ${mib(Number(floor.trim()))} MiB RSS`,
  );
} finally {
  kubelet?.stop();
  await pod?.kill();
  await bed?.dispose();
  await api.stop();
  await rm(work, { recursive: true, force: true });
}

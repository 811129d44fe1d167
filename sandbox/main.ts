/**
 * The sandbox: kata-deploy's main job on a private containerd under a temporary host root, on a machine whose
 * own containerd, /etc and /var/lib are never touched. It starts the real containerd (1.6, 1.7 or 2.1) and
 * the real nydus-snapshotter, puts images and a running container on it, and runs the built CLI against it.
 *
 *   node --import tsx sandbox/main.ts [--containerd 1.6|1.7|2.1] [--keep]
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { busyboxImage, generateImage, startBed, type ContainerdVersion } from '../test/bed/index.js';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '../bin/kata-deploy.js');
const { values } = parseArgs({ options: { containerd: { type: 'string', default: '2.1' } } });
const version = values.containerd as ContainerdVersion;
if (!['1.6', '1.7', '2.1'].includes(version)) {
  process.stderr.write(`--containerd: "${version}" is not one of 1.6, 1.7, 2.1\n`);
  process.exit(2);
}

interface StepReport {
  step: string;
  ms: number;
  exitCode: number;
  output: string;
}
const report: StepReport[] = [];

async function step(name: string, args: string[]): Promise<StepReport> {
  const started = performance.now();
  const result = await run(process.execPath, [CLI, ...args], { maxBuffer: 1 << 24 }).then(
    (r) => ({ exitCode: 0, output: r.stdout }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({
      exitCode: e.code ?? 1,
      output: `${e.stdout ?? ''}${e.stderr ?? ''}`,
    }),
  );
  const entry = { step: name, ms: Math.round(performance.now() - started), ...result };
  report.push(entry);
  process.stdout.write(`\n== ${name} (exit ${entry.exitCode}, ${entry.ms} ms)\n${entry.output}`);
  return entry;
}

const dir = mkdtempSync(join(tmpdir(), 'kd-sandbox-'));
const bed = await startBed({ version });
try {
  process.stdout.write(
    `sandbox: containerd ${bed.binaries.fullVersion} on ${bed.socket}, nydus-snapshotter at ${bed.nydus?.socket}\n`,
  );
  const images = [
    await generateImage(
      { name: 'sandbox/app:v1', layers: 5, seed: 'app', sharedLowerLayers: { seed: 'base', count: 2 } },
      dir,
    ),
    await generateImage(
      { name: 'sandbox/tool:v1', layers: 4, seed: 'tool', sharedLowerLayers: { seed: 'base', count: 2 } },
      dir,
    ),
  ];
  for (const image of images) await bed.importImage(image, { namespace: 'k8s.io' });
  await bed.runContainer('sandbox-busybox', { namespace: 'k8s.io', image: await busyboxImage(dir) });
  const socket = ['--containerd-socket', bed.socket];
  await step('containerd info', ['containerd', 'info', ...socket]);
  await step('snapshots doctor', [
    'snapshots',
    'doctor',
    '--snapshotter',
    'nydus',
    ...socket,
    '--snapshotter-root',
    bed.nydus?.dataDir ?? '',
  ]);
  await step('snapshots clean (running container stays)', [
    'snapshots',
    'clean',
    '--snapshotter',
    'nydus',
    ...socket,
  ]);
  await bed.ctr(['task', 'kill', '-s', 'KILL', 'sandbox-busybox'], { namespace: 'k8s.io', allowFail: true });
  await bed.ctr(['task', 'delete', '-f', 'sandbox-busybox'], { namespace: 'k8s.io', allowFail: true });
  await step('snapshots clean (after the container stopped)', [
    'snapshots',
    'clean',
    '--snapshotter',
    'nydus',
    ...socket,
  ]);
} finally {
  await bed.teardown();
}
process.stdout.write('\nsummary:\n');
for (const r of report)
  process.stdout.write(`  ${r.step.padEnd(48)} exit ${r.exitCode}  ${String(r.ms).padStart(6)} ms\n`);
process.stdout.write('left running: nothing (the bed was torn down)\n');

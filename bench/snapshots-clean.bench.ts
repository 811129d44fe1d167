/**
 * `kata-deploy snapshots clean` against the seed's ctr loop (bench/seed-ctr-loop.sh) on identical data in
 * the same run: 50 images x 10 layers with shared lower layers, imported into the real nydus-snapshotter of a
 * private containerd. Prints wall time, process spawns and API calls of each, and their ratio.
 *
 *   node --import tsx bench/snapshots-clean.bench.ts [--versions 1.6,2.1] [--images 50] [--layers 10] [--repeat 3]
 *
 * Each repeat re-imports the images and runs both on the same data; with more than one repeat the summary
 * line gives the medians, so one run disturbed by the machine does not decide the ratio.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { ContainerdClient } from '../src/containerd/api/index.js';
import type { CleanResult } from '../src/snapshots/types.js';
import { startBed, type ContainerdVersion, type GeneratedImage } from '../test/bed/index.js';
import { generateForest, importForest } from '../test/support/forest.js';

const run = promisify(execFile);
const here = import.meta.dirname;
const { values } = parseArgs({
  options: {
    versions: { type: 'string', default: '1.6,2.1' },
    images: { type: 'string', default: '50' },
    layers: { type: 'string', default: '10' },
    repeat: { type: 'string', default: '3' },
  },
});

interface Sample {
  ms: number;
  spawns: number;
  apiCalls: number;
  verdict: string;
  left: number;
}

async function seedLoop(ctr: string, socket: string, dir: string): Promise<Sample> {
  const spawnLog = join(dir, 'spawns');
  writeFileSync(spawnLog, '');
  const t = performance.now();
  const { stdout } = await run('bash', [join(here, 'seed-ctr-loop.sh'), ctr, socket, 'nydus', spawnLog], {
    maxBuffer: 1 << 24,
  });
  const ms = performance.now() - t;
  const spawns = readFileSync(spawnLog, 'utf8').split('\n').filter(Boolean).length;
  // Each ctr invocation of the loop makes one API call (a list stream or a single request).
  return { ms, spawns, apiCalls: spawns, verdict: stdout.trim().split('\n').pop() ?? '', left: 0 };
}

async function ours(socket: string, metaDb: string): Promise<Sample> {
  const cli = join(here, '../bin/kata-deploy.js');
  const t = performance.now();
  const out = await run(
    process.execPath,
    [
      cli,
      'snapshots',
      'clean',
      '--snapshotter',
      'nydus',
      '--containerd-socket',
      socket,
      '--meta-db',
      metaDb,
      '--json',
    ],
    {
      maxBuffer: 1 << 24,
    },
  ).catch((e: { stdout: string }) => e);
  const ms = performance.now() - t;
  const result = JSON.parse(out.stdout) as CleanResult;
  return { ms, spawns: 1, apiCalls: result.apiCalls, verdict: `clean: ${String(result.clean)}`, left: 0 };
}

async function leftover(client: ContainerdClient): Promise<number> {
  let n = 0;
  for (const ns of await client.namespaces.list())
    n += (await client.snapshots.list(ns.name, 'nydus')).length;
  return n;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const fmt = (s: Sample): string =>
  `${(s.ms / 1000).toFixed(2).padStart(6)} s  ${String(s.spawns).padStart(5)} spawns  ${String(s.apiCalls).padStart(5)} API calls  left ${s.left}  ${s.verdict}`;

for (const version of (values.versions ?? '').split(',') as ContainerdVersion[]) {
  const dir = mkdtempSync(join(tmpdir(), 'kd-bench-'));
  const bed = await startBed({ version });
  try {
    const client = await ContainerdClient.connect({ socket: bed.socket });
    const images: GeneratedImage[] = await generateForest(
      { images: Number(values.images), layers: Number(values.layers) },
      dir,
    );
    const seedMs: number[] = [];
    const oursMs: number[] = [];
    for (let i = 0; i < Number(values.repeat); i++) {
      await importForest(bed, images, { namespace: 'k8s.io' });
      const records = await leftover(client);
      const seed = await seedLoop(bed.binaries.ctr, bed.socket, dir);
      seed.left = await leftover(client);
      await importForest(bed, images, { namespace: 'k8s.io' });
      const mine = await ours(bed.socket, bed.metaDbPath);
      mine.left = await leftover(client);
      seedMs.push(seed.ms);
      oursMs.push(mine.ms);
      console.log(
        `containerd ${bed.binaries.fullVersion}, ${images.length} images x ${values.layers} layers, ${records} snapshot records`,
      );
      console.log(`  seed ctr loop    ${fmt(seed)}`);
      console.log(`  kata-deploy      ${fmt(mine)}`);
      console.log(
        `  ratio: ${(seed.ms / mine.ms).toFixed(1)}x faster, ${(seed.spawns / mine.spawns).toFixed(0)}x fewer spawns, ${(seed.apiCalls / mine.apiCalls).toFixed(1)}x fewer API calls`,
      );
    }
    if (seedMs.length > 1) {
      const [seedMedian, oursMedian] = [median(seedMs), median(oursMs)];
      console.log(
        `containerd ${version}: median of ${seedMs.length}: seed ${(seedMedian / 1000).toFixed(2)} s, ` +
          `kata-deploy ${(oursMedian / 1000).toFixed(2)} s, ratio ${(seedMedian / oursMedian).toFixed(1)}x faster`,
      );
    }
    client.close();
  } finally {
    await bed.teardown();
    rmSync(dir, { recursive: true, force: true });
  }
}

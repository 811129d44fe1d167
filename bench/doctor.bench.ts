/**
 * `kata-deploy snapshots doctor` over a meta.db with 20,000+ snapshot records written by a real containerd into
 * the real nydus-snapshotter, against `cat meta.db > /dev/null` as the floor. Each measured run is a fresh
 * child process under GNU time (wall time, CPU time, peak RSS); medians of --repeat runs. Two states of the
 * same file: every record healthy, then every record stale (nydus's data dir wiped and nydus restarted). The
 * bench fails when the doctor's findings are not exactly those.
 *
 *   node --import tsx bench/doctor.bench.ts [--version 2.1] [--chains 2000] [--layers 10] [--concurrency 16]
 *     [--images 20] [--containers 4] [--repeat 3] [--root-parent /dev/shm] [--skip-build]
 *
 * The bed lives on tmpfs by default: every Prepare/Commit is a bolt transaction with fsync in containerd and
 * again in nydus, and on this machine's disk that triples the build time without changing the file. The
 * built bed is not kept between runs (a bed's root must be new, and teardown removes it): the build takes
 * about 1.5 minutes of the whole.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { ContainerdClient } from '../src/containerd/api/index.js';
import { readMetaDb } from '../src/containerd/metadb/index.js';
import { collectGarbage } from '../src/snapshots/apply.js';
import type { DoctorReport } from '../src/snapshots/doctor.js';
import { ALL_VERSIONS, startBed, type Bed, type ContainerdVersion } from '../test/bed/index.js';
import { generateForest, importForest } from '../test/support/forest.js';
import { measure, median, requireGnuTime, table, type RunSample } from './measure.js';

const NS = 'k8s.io';
const SNAPSHOTTER = 'nydus';
const repo = join(import.meta.dirname, '..');
const cli = join(repo, 'bin/kata-deploy.js');
const dist = (p: string): string => JSON.stringify(pathToFileURL(join(repo, 'dist', p)).href);

const { values } = parseArgs({
  options: {
    version: { type: 'string', default: '2.1' },
    chains: { type: 'string', default: '2000' },
    layers: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '16' },
    images: { type: 'string', default: '20' },
    containers: { type: 'string', default: '4' },
    repeat: { type: 'string', default: '3' },
    'root-parent': { type: 'string', default: '/dev/shm' },
    'skip-build': { type: 'boolean', default: false },
  },
});
const version = values.version as ContainerdVersion;
if (!ALL_VERSIONS.includes(version)) throw new Error(`--version must be one of ${ALL_VERSIONS.join(', ')}`);
const spec = {
  chains: Number(values.chains),
  layers: Number(values.layers),
  concurrency: Number(values.concurrency),
  images: Number(values.images),
  containers: Math.min(Number(values.containers), Number(values.images)),
  repeat: Number(values.repeat),
};

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const chainKey = (chain: number, layer: number): string =>
  `sha256:${createHash('sha256').update(`bench-doctor/${chain}/${layer}`).digest('hex')}`;

/**
 * Chains of committed layers the way an unpack makes them (extract key → Commit to the chain ID). The top of
 * each chain carries a gc.root label so that nothing depends on the GC being held off after the build.
 */
async function buildChains(client: ContainerdClient): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let chain = next++; chain < spec.chains; chain = next++) {
      let parent = '';
      for (let layer = 0; layer < spec.layers; layer++) {
        const name = chainKey(chain, layer);
        const active = `extract-${chain}-${layer} ${name}`;
        await client.snapshots.prepare(NS, SNAPSHOTTER, active, parent);
        const labels: Record<string, string> =
          layer === spec.layers - 1 ? { 'containerd.io/gc.root': new Date().toISOString() } : {};
        await client.snapshots.commit(NS, SNAPSHOTTER, name, active, labels);
        parent = name;
      }
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, worker));
}

async function countRecords(metaDb: string): Promise<number> {
  const view = await readMetaDb(metaDb);
  return view.namespaces.reduce((n, ns) => n + (ns.snapshotters.get(SNAPSHOTTER)?.snapshots.size ?? 0), 0);
}

interface LibResult {
  records: number;
  stale: number;
  backendSnapshots: number;
  backendError?: string;
  brokenImages: number;
  healthy: boolean | 'unknown';
  jsonBytes: number;
  phases: { read: number; backend: number; diagnose: number; json: number };
  maxRssKiB: number;
}

/** The library alone in a child: read meta.db, list the backend on its socket, diagnose, serialise. */
const libraryChild = (metaDb: string, socket: string, root: string): string => `
import { readMetaDb } from ${dist('containerd/metadb/index.js')};
import { readBackendInventory } from ${dist('snapshots/backend.js')};
import { diagnose } from ${dist('snapshots/doctor.js')};
const t0 = performance.now();
const view = await readMetaDb(${JSON.stringify(metaDb)});
const t1 = performance.now();
const backend = await readBackendInventory({ address: ${JSON.stringify(socket)}, root: ${JSON.stringify(root)} });
const t2 = performance.now();
const report = diagnose(view, ${JSON.stringify(SNAPSHOTTER)}, backend);
const t3 = performance.now();
const jsonBytes = Buffer.byteLength(JSON.stringify(report, null, 2));
const t4 = performance.now();
process.stdout.write(JSON.stringify({
  records: report.records, stale: report.staleRecords.length, brokenImages: report.brokenImages.length,
  backendSnapshots: backend.known ? backend.keys.size : -1, backendError: backend.known ? undefined : backend.reason, healthy: report.healthy, jsonBytes,
  phases: { read: t1 - t0, backend: t2 - t1, diagnose: t3 - t2, json: t4 - t3 },
  maxRssKiB: process.resourceUsage().maxRSS,
}));
`;

interface Scenario {
  label: string;
  rows: string[][];
  lib: LibResult;
  cliExit: number;
  cli: DoctorReport;
}

async function runScenario(bed: Bed, label: string): Promise<Scenario> {
  const socket = bed.nydus?.socket as string;
  const dataDir = bed.nydus?.dataDir as string;
  const doctorArgs = [
    cli,
    'snapshots',
    'doctor',
    '--snapshotter',
    SNAPSHOTTER,
    '--containerd-socket',
    bed.socket,
    '--meta-db',
    bed.metaDbPath,
    '--snapshotter-socket',
    socket,
    // A restarted nydus answers List with "bucket does not exist" until its first write; the data dir is
    // where the doctor then reads the truth (nothing).
    '--snapshotter-root',
    dataDir,
    '--json',
  ];
  const runs: Record<'cat' | 'node' | 'cli' | 'lib', RunSample[]> = { cat: [], node: [], cli: [], lib: [] };
  await measure('cat', [bed.metaDbPath], { discardStdout: true }); // warm the page cache
  for (let i = 0; i < spec.repeat; i++) {
    runs.cat.push(await measure('cat', [bed.metaDbPath], { discardStdout: true }));
    runs.node.push(await measure(process.execPath, ['-e', '0']));
    runs.cli.push(await measure(process.execPath, doctorArgs, { discardStdout: true }));
    runs.lib.push(
      await measure(process.execPath, [
        '--input-type=module',
        '-e',
        libraryChild(bed.metaDbPath, socket, dataDir),
      ]),
    );
  }
  for (const [what, samples] of Object.entries(runs)) {
    const bad = samples.find((s) => s.code !== 0 && !(what === 'cli' && s.code === 1));
    if (bad) throw new Error(`${what} exited ${bad.code}`);
  }
  const cliExits = new Set(runs.cli.map((s) => s.code));
  if (cliExits.size !== 1)
    throw new Error(`the CLI's exit code varied between runs: ${[...cliExits].join(', ')}`);
  const lib = JSON.parse(runs.lib.at(-1)?.stdout ?? '') as LibResult;
  // One more CLI run, unmeasured, to show what the measured ones found.
  const shown = JSON.parse((await measure(process.execPath, doctorArgs)).stdout) as DoctorReport;

  const catMs = median(runs.cat.map((s) => s.ms));
  const catRss = median(runs.cat.map((s) => s.maxRssKiB));
  const row = (what: string, samples: RunSample[]): string[] => {
    const ms = median(samples.map((s) => s.ms));
    const rss = median(samples.map((s) => s.maxRssKiB));
    return [
      `${label}: ${what}`,
      ms.toFixed(1),
      `${Math.min(...samples.map((s) => s.ms)).toFixed(0)}–${Math.max(...samples.map((s) => s.ms)).toFixed(0)}`,
      median(samples.map((s) => s.cpuMs)).toFixed(0),
      (rss / 1024).toFixed(1),
      `${(ms / catMs).toFixed(0)}x`,
      `${(rss / catRss).toFixed(0)}x`,
    ];
  };
  return {
    label,
    lib,
    cliExit: [...cliExits][0] ?? -1,
    cli: shown,
    rows: [
      row('cat meta.db > /dev/null', runs.cat),
      row('node -e 0 (startup only)', runs.node),
      row('kata-deploy doctor --json', runs.cli),
      row('library in a child', runs.lib),
    ],
  };
}

/** The measured runs must have done the work: every record read, and exactly the expected ones stale. */
function expectFindings(s: Scenario, records: number, stale: number): void {
  const seen = `library ${s.lib.records} records / ${s.lib.stale} stale, CLI ${s.cli.records} / ${s.cli.staleRecords.length} (exit ${s.cliExit})`;
  const ok =
    s.lib.records === records &&
    s.cli.records === records &&
    s.lib.stale === stale &&
    s.cli.staleRecords.length === stale &&
    s.cliExit === (stale === 0 ? 0 : 1);
  if (!ok) throw new Error(`${s.label}: expected ${records} records, ${stale} stale; got ${seen}`);
}

requireGnuTime();
const started = performance.now();
if (!values['skip-build']) {
  const t = performance.now();
  // tsc emits even when someone else's file has a type error mid-edit; only a missing dist/ is fatal here.
  await promisify(execFile)('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: repo }).catch(
    (e: { stdout?: string }) => console.error(`tsc reported errors (continuing):\n${e.stdout ?? String(e)}`),
  );
  console.log(`build: ${seconds(performance.now() - t)}`);
}

const bed = await startBed({
  version,
  root: mkdtempSync(join(values['root-parent'] ?? tmpdir(), 'kd-bench-')),
  // An unpack holds its layers with a lease until the chain is committed; these bare Prepare/Commit calls
  // have none, so a GC between one layer's Commit and the next Prepare would sweep the parent. Commits alone
  // only count as mutations, so raising this threshold keeps the GC away while nothing is deleted.
  extraConfig: '[plugins."io.containerd.gc.v1.scheduler"]\n  mutation_threshold = 1000000000\n',
});
const work = mkdtempSync(join(tmpdir(), 'kd-bench-doctor-'));
try {
  const client = await ContainerdClient.connect({ socket: bed.socket });
  let t = performance.now();
  const images = await generateForest({ images: spec.images, layers: spec.layers, tag: 'doctor' }, work);
  await importForest(bed, images, { namespace: NS });
  for (let i = 0; i < spec.containers; i++)
    await bed.createContainer(`bench-c${i}`, images[i]!, { namespace: NS });
  // Every ctr call ends by deleting its lease, which schedules a GC; let that one pass before the chains.
  await collectGarbage(client, NS);
  const importMs = performance.now() - t;
  t = performance.now();
  await buildChains(client);
  const chainsMs = performance.now() - t;
  client.close();
  const records = await countRecords(bed.metaDbPath);
  const expected = spec.chains * spec.layers;
  if (records < expected) throw new Error(`meta.db holds ${records} records, expected at least ${expected}`);
  const size = statSync(bed.metaDbPath).size;
  console.log(
    `containerd ${bed.binaries.fullVersion}, nydus-snapshotter; ${spec.images} images x ${spec.layers} layers + ${spec.containers} containers imported in ${seconds(importMs)}; ${spec.chains} chains x ${spec.layers} layers (concurrency ${spec.concurrency}) in ${seconds(chainsMs)}`,
  );
  console.log(
    `meta.db: ${(size / 2 ** 20).toFixed(1)} MiB, ${records} ${SNAPSHOTTER} snapshot records; ${spec.repeat} runs each, medians of wall time, CPU time (user + sys) and peak RSS; load average ${loadavg()[0]?.toFixed(1)} on ${availableParallelism()} CPUs`,
  );

  const scenarios = [await runScenario(bed, 'healthy')];
  expectFindings(scenarios[0]!, records, 0);
  await bed.nydus?.stop();
  await bed.nydus?.wipe();
  await bed.nydus?.start();
  scenarios.push(await runScenario(bed, 'stale'));
  expectFindings(scenarios[1]!, records, records);

  console.log();
  console.log(
    table(
      ['run', 'wall ms', 'range', 'CPU ms', 'peak RSS MiB', 'wall / cat', 'RSS / cat'],
      scenarios.flatMap((s) => s.rows),
    ),
  );
  console.log();
  for (const s of scenarios) {
    const p = s.lib.phases;
    console.log(
      `${s.label}: ${s.lib.records} records, backend ${s.lib.backendSnapshots} snapshots, ${s.lib.stale} stale, ${s.lib.brokenImages} broken images, healthy ${String(s.lib.healthy)}${s.lib.backendError ? ` (${s.lib.backendError})` : ''}, CLI exit ${s.cliExit}; library phases: read+decode ${p.read.toFixed(0)} ms, backend list ${p.backend.toFixed(0)} ms, diagnose ${p.diagnose.toFixed(0)} ms, JSON ${p.json.toFixed(0)} ms (${(s.lib.jsonBytes / 2 ** 20).toFixed(1)} MiB)`,
    );
    const backend = s.cli.backend.known
      ? `${s.cli.backend.snapshots} in ${s.cli.backend.source}`
      : `unknown: ${s.cli.backend.reason}`;
    console.log(
      `  CLI: ${s.cli.records} records, ${s.cli.staleRecords.length} stale, ${s.cli.brokenImages.length} broken images, backend ${backend}`,
    );
  }
} finally {
  await bed.teardown();
  rmSync(work, { recursive: true, force: true });
  console.log(`total: ${seconds(performance.now() - started)}`);
}

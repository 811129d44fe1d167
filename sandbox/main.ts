/**
 * The sandbox: kata-deploy's whole node lifecycle on a private containerd under a temporary host root, on a
 * machine whose own containerd, /etc and /var/lib are never touched. containerd and the real nydus-snapshotter
 * are installed, started and stopped by kata-deploy itself (the built CLI, `--service-manager process`).
 *
 *   node --import tsx sandbox/main.ts [--containerd 1.6|1.7|2.1] [--keep] [--json] [--snapshotter nydus|none]
 *
 * `--snapshotter none` runs the same cycle without EXPERIMENTAL_SETUP_SNAPSHOTTER (images on overlayfs).
 * Exit 0 when every step passed and nothing was left running, 1 otherwise, 2 for a usage error.
 */
import { mkdtemp } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  busyboxImage,
  generateImage,
  nydusBinaries,
  startRegistry,
  type ContainerdVersion,
  type Registry,
} from '../test/bed/index.js';
import { runLifecycleCli, type CliOptions } from './cli.js';
import { endEverything, killEverythingSync, removeTree } from './cleanup.js';
import { ctrFor } from './ctr.js';
import { createNode, type SandboxNode } from './node.js';
import { assemblePayload } from './payload.js';
import { renderReport, type SandboxReport } from './report.js';
import {
  applied,
  CONTAINER_ID,
  dataDirOutcome,
  runScenario,
  runStep,
  type ScenarioContext,
  type StepResult,
} from './scenario.js';

const VERSIONS: readonly ContainerdVersion[] = ['1.6', '1.7', '2.1'];

function usage(message: string): never {
  process.stderr.write(
    `sandbox: ${message}\nusage: bash scripts/sandbox.sh [--containerd 1.6|1.7|2.1] [--keep] [--json] [--snapshotter nydus|none]\n`,
  );
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      containerd: { type: 'string', default: '2.1' },
      snapshotter: { type: 'string', default: 'nydus' },
      keep: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  }).values;
} catch (error) {
  usage(error instanceof Error ? error.message : String(error));
}
const version = parsed.containerd as ContainerdVersion;
if (!VERSIONS.includes(version)) usage(`--containerd "${version}" is not one of ${VERSIONS.join(', ')}`);
if (parsed.snapshotter !== 'nydus' && parsed.snapshotter !== 'none')
  usage(`--snapshotter "${parsed.snapshotter}" is not nydus or none`);
const snapshotter = parsed.snapshotter === 'nydus' ? 'nydus' : undefined;
const log = (line: string) => process.stderr.write(`${line}\n`);

const started = performance.now();
const cgroupParent = `kd-sandbox-${randomBytes(4).toString('hex')}`;
const work = await mkdtemp('/tmp/kd-sandbox-work-');
let node: SandboxNode | undefined;
let registry: Registry | undefined;
let cli: CliOptions | undefined;

// Interrupted: end this sandbox's processes by pid right away (the registry's own exit handler stops it).
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killEverythingSync({ root: node?.root, work, cgroupParent, keep: parsed.keep });
    process.exit(130);
  });
}

let ctx: ScenarioContext | undefined;
const prepare = await runStep(
  'prepare',
  async () => {
    node = await createNode(version);
    const payload = await assemblePayload(join(work, 'payload'));
    registry = await startRegistry({ root: join(work, 'registry') });
    const busybox = await busyboxImage(join(work, 'images'));
    const app = await generateImage(
      { name: 'sandbox/app:1', layers: 4, seed: 'app', sharedLowerLayers: { seed: 'base', count: 2 } },
      join(work, 'images'),
    );
    const images = [
      await registry.push(busybox, 'sandbox/busybox:1'),
      await registry.push(app, 'sandbox/app:1'),
    ];
    cli = { node, payloadDir: payload.dir, snapshotter };
    ctx = {
      node,
      ctr: ctrFor(node.binaries, node.socket),
      cli,
      images,
      runImage: images[0] ?? '',
      cgroupParent,
      log,
    };
    return `containerd ${node.binaries.fullVersion} via the supervisor; payload nydus-snapshotter/ with ${payload.nydusFiles.length} files (real binaries${payload.nydusFiles.some((f) => f.endsWith('.in')) ? ' and templates' : ''}); registry ${registry.address}`;
  },
  log,
);
const steps: StepResult[] = [prepare];
if (ctx !== undefined) steps.push(...(await runScenario(ctx)));

// Teardown: kata-deploy takes itself off the node (stopping the snapshotter), then the supervisor stops
// containerd, then anything else this sandbox started goes by pid.
const teardownSteps: StepResult[] = [];
if (node !== undefined && cli !== undefined) {
  const c = ctx;
  if (c !== undefined && (await c.ctr.containers().catch((): string[] => [])).includes(CONTAINER_ID)) {
    teardownSteps.push(
      await runStep(
        'teardown: container',
        () => c.ctr.removeContainer(CONTAINER_ID).then(() => `${CONTAINER_ID} removed`),
        log,
      ),
    );
  }
  const o = cli;
  teardownSteps.push(
    await runStep(
      'teardown: uninstall',
      async () => {
        const r = await runLifecycleCli('cleanup', o);
        if (r.exitCode !== 0) {
          throw new Error(
            `exit ${r.exitCode}: ${r.result?.error?.message ?? r.stderr.trim().split('\n').at(-1)}`,
          );
        }
        return [applied(r), dataDirOutcome(r)].filter(Boolean).join('; ');
      },
      log,
    ),
  );
}
const ended = node
  ? await endEverything({ host: node.host, root: node.root, units: node.units, cgroupParent })
  : { notes: [], problems: [] };
await registry?.stop();
const leftRunning = node
  ? killEverythingSync({ root: node.root, work, cgroupParent, keep: true, dryRun: true })
  : [];
let rootRemoved = false;
const problems = [...ended.problems];
if (!parsed.keep) {
  try {
    if (node) await removeTree(node.root);
    await removeTree(work);
    rootRemoved = node !== undefined;
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  }
}

const report: SandboxReport = {
  containerd: node?.binaries.fullVersion ?? version,
  snapshotter: snapshotter ? `nydus (${nydusBinaries().grpc})` : 'none (overlayfs)',
  root: node?.root ?? '',
  steps,
  teardown: { steps: teardownSteps, notes: ended.notes, problems, leftRunning, rootRemoved },
  passed:
    [...steps, ...teardownSteps].every((s) => s.outcome === 'passed') &&
    problems.length === 0 &&
    leftRunning.length === 0,
  totalMs: Math.round(performance.now() - started),
};
process.stdout.write(parsed.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report));
process.exit(report.passed ? 0 : 1);

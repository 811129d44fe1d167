/**
 * The sandbox: kata-deploy's whole node lifecycle on a private containerd under a temporary host root, on a
 * machine whose own containerd, /etc and /var/lib are never touched. containerd and the real nydus-snapshotter
 * are installed, started and stopped by kata-deploy itself (the built CLI, `--service-manager process`).
 *
 *   node --import tsx sandbox/main.ts [--containerd 1.6|1.7|2.1] [--service-manager systemd|process] [--keep]
 *                                     [--json] [--snapshotter nydus|none]
 *
 * By default the node is the systemd bed (a real systemd as the node's PID 1, kata-deploy in a pod of it with
 * `--service-manager systemd`) when systemd can start here, else the process supervisor's host root; the report
 * says which. `--service-manager process` always takes the process supervisor's path, `--service-manager
 * systemd` fails when systemd cannot start. `--snapshotter none` runs the same cycle without
 * EXPERIMENTAL_SETUP_SNAPSHOTTER (images on overlayfs).
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
import { createNode, type SandboxNode, type SandboxServiceManager } from './node.js';
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
    `sandbox: ${message}\nusage: bash scripts/sandbox.sh [--containerd 1.6|1.7|2.1] [--service-manager systemd|process] [--keep] [--json] [--snapshotter nydus|none]\n`,
  );
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      containerd: { type: 'string', default: '2.1' },
      snapshotter: { type: 'string', default: 'nydus' },
      'service-manager': { type: 'string' },
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
const askedManager = parsed['service-manager'];
if (askedManager !== undefined && askedManager !== 'systemd' && askedManager !== 'process')
  usage(`--service-manager "${askedManager}" is not systemd or process`);
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

/** Why the default systemd node was not used, when it was not. */
let fallback: string | undefined;

/** systemd where it can start (or where asked for), else the process supervisor. */
async function startNode(asked: SandboxServiceManager | undefined): Promise<SandboxNode> {
  if (asked !== undefined) return createNode(version, asked);
  try {
    return await createNode(version, 'systemd');
  } catch (error) {
    fallback = `systemd could not start here: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}`;
    log(`sandbox: ${fallback}; using the process supervisor`);
    return createNode(version, 'process');
  }
}

let ctx: ScenarioContext | undefined;
const prepare = await runStep(
  'prepare',
  async () => {
    node = await startNode(askedManager);
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
      ctr: ctrFor(node.binaries, node.ctr, node.runFlags),
      cli,
      images,
      runImage: images[0] ?? '',
      cgroupParent,
      log,
    };
    return `containerd ${node.binaries.fullVersion}, services: ${node.describe}${fallback ? ` (${fallback})` : ''}; payload nydus-snapshotter/ with ${payload.nydusFiles.length} files (real binaries${payload.nydusFiles.some((f) => f.endsWith('.in')) ? ' and templates' : ''}); registry ${registry.address}`;
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
// The systemd node ends with its PID 1 (every process in its namespaces, its mounts with them).
const bedProblems: string[] = [];
if (node?.serviceManager === 'systemd') {
  await node.teardown().catch((e: unknown) => bedProblems.push(e instanceof Error ? e.message : String(e)));
}
const ended = node
  ? await endEverything({ host: node.host, root: node.root, units: node.units, cgroupParent })
  : { notes: [], problems: [] };
await registry?.stop();
const leftRunning = node
  ? killEverythingSync({ root: node.root, work, cgroupParent, keep: true, dryRun: true })
  : [];
let rootRemoved = false;
const problems = [...bedProblems, ...ended.problems];
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
  serviceManager: node === undefined ? 'none' : `${node.serviceManager}${fallback ? ` (${fallback})` : ''}`,
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

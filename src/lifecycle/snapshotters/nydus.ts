/**
 * The nydus snapshotter (`EXPERIMENTAL_SETUP_SNAPSHOTTER=nydus`): binaries, configuration and service from the
 * payload's `nydus-snapshotter/`, containerd's proxy plugin, and the data dir handled without split brain.
 *
 * Whenever the snapshotter is already there (upgrade) and on cleanup, containerd's records of it are cleaned
 * while it still runs, and its data dir is wiped only on a verdict that no record is left (see records.ts);
 * otherwise the dir stays, in step with containerd's records. `SNAPSHOTTER_DATA_POLICY=preserve` never wipes.
 *
 * Paths: under systemd every path is a node path. The process supervisor runs the snapshotter from this
 * process's view, so the paths the snapshotter and containerd's proxy plugin use are written as seen from here
 * (`<host-root>/var/lib/…`), which a containerd in a sandbox reaches without mapping anything.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pluginPaths } from '../../containerd/config/runtimes.js';
import type { ConfigEdit } from '../../containerd/config/edit.js';
import { UsageError } from '../../errors/index.js';
import { underRoot } from '../../host/index.js';
import { NYDUS_PAYLOAD, NYDUS_PAYLOAD_DIR, type Names } from '../../names/index.js';
import type { Settings } from '../../settings/index.js';
import type { HookObserveInput, SnapshotterHook, SnapshotterHookContext } from '../hooks.js';
import type { Step } from '../steps.js';
import { renderTemplate, type TemplateValue } from './template.js';
import { containersUsing } from './gather.js';
import type { Evidence } from '../../evidence/index.js';

export interface NydusPayload {
  /** Real paths of the binaries to copy. */
  readonly grpcBinary: string;
  readonly overlayfsBinary: string;
  readonly configTemplate: string;
  readonly unitTemplate: string | undefined;
  readonly serviceSpecTemplate: string | undefined;
}

export interface NydusFacts {
  /** Install only, when nydus is set up. */
  readonly payload: NydusPayload | undefined;
  /** A unit file or service spec of this instance exists. */
  readonly serviceDefined: boolean;
  readonly dataDirExists: boolean;
  /**
   * When nydus is not set up by this run but is on the node: the containers whose snapshots live in it (from
   * meta.db), or evidence that says why that is not known.
   */
  readonly usage?: { readonly evidence: Evidence; readonly containers: readonly unknown[] };
}

async function readPayload(settings: Settings): Promise<NydusPayload> {
  const dir = join(settings.artifactsDir, NYDUS_PAYLOAD_DIR);
  const read = async (name: string, required: boolean): Promise<string | undefined> => {
    try {
      return await readFile(join(dir, name), 'utf8');
    } catch {
      if (!required) return undefined;
      throw new UsageError(`--artifacts-dir ${settings.artifactsDir} has no ${NYDUS_PAYLOAD_DIR}/${name}`, {
        input: '--artifacts-dir',
        hint: `EXPERIMENTAL_SETUP_SNAPSHOTTER=nydus needs the payload's ${NYDUS_PAYLOAD_DIR}/ (binaries and templates)`,
      });
    }
  };
  for (const bin of [NYDUS_PAYLOAD.grpcBinary, NYDUS_PAYLOAD.overlayfsBinary]) await read(bin, true);
  const manager = settings.serviceManager;
  return {
    grpcBinary: join(dir, NYDUS_PAYLOAD.grpcBinary),
    overlayfsBinary: join(dir, NYDUS_PAYLOAD.overlayfsBinary),
    configTemplate: (await read(NYDUS_PAYLOAD.configTemplate, true))!,
    unitTemplate: await read(NYDUS_PAYLOAD.unitTemplate, manager === 'systemd'),
    serviceSpecTemplate: await read(NYDUS_PAYLOAD.serviceSpecTemplate, manager === 'process'),
  };
}

async function observe(input: HookObserveInput): Promise<NydusFacts> {
  const { settings, host, names } = input;
  const n = names.nydus;
  const serviceFile = settings.serviceManager === 'systemd' ? n.unitFile : n.serviceSpecFile;
  const setUp = settings.setupSnapshotters.includes('nydus');
  const facts = {
    payload: input.action === 'install' && setUp ? await readPayload(settings) : undefined,
    serviceDefined: (await host.lstat(serviceFile)) !== undefined,
    dataDirExists: (await host.lstat(n.dataDir)) !== undefined,
  };
  if (setUp || input.action !== 'install' || (!facts.serviceDefined && !facts.dataDirExists)) return facts;
  return { ...facts, usage: await containersUsing({ host, names }, n.name) };
}

function factsOf(ctx: SnapshotterHookContext): NydusFacts {
  const facts = ctx.facts as NydusFacts | undefined;
  if (facts === undefined) throw new Error('nydus hook: planned without observing first');
  return facts;
}

/** A path as the snapshotter and containerd's proxy plugin must name it (see the module comment). */
export function servicePath(settings: Settings, nodePath: string): string {
  return settings.serviceManager === 'process' ? underRoot(settings.hostRoot, nodePath) : nodePath;
}

function criUnit(names: Names): string {
  const c = names.containerd;
  return c.unit ?? (c.runtime === 'k0s-controller' ? 'k0scontroller.service' : 'k0sworker.service');
}

function templateValues(settings: Settings, names: Names): Record<string, TemplateValue> {
  const n = names.nydus;
  const path = (p: string): TemplateValue => ({ value: servicePath(settings, p), kind: 'path' });
  return {
    NAME: { value: n.name, kind: 'unit' },
    ROOT_DIR: path(n.dataDir),
    GRPC_SOCKET: path(n.socket),
    NYDUS_OVERLAYFS: path(n.overlayfsBinary),
    SNAPSHOTTER_BINARY: path(n.grpcBinary),
    CONFIG_FILE: path(n.configFile),
    CRI_UNIT: { value: criUnit(names), kind: 'unit' },
    // The supervisor resolves its log file under the host root itself.
    LOG_FILE: { value: n.logFile, kind: 'path' },
  };
}

/** Records first (while it runs), then stop, then the gated wipe. */
function dataDirSteps(ctx: SnapshotterHookContext): Step[] {
  const n = ctx.names.nydus;
  const target = { snapshotter: n.name, socket: n.socket, dataDir: n.dataDir };
  const stop: Step = { kind: 'service', action: 'stop', unit: n.unit, ifActive: true };
  if (ctx.settings.snapshotterDataPolicy === 'preserve') return [stop];
  return [{ kind: 'cleanSnapshotterRecords', ...target }, stop, { kind: 'wipeSnapshotterData', ...target }];
}

function planInstall(ctx: SnapshotterHookContext): Step[] {
  const { settings, names } = ctx;
  const n = names.nydus;
  const facts = factsOf(ctx);
  const payload = facts.payload!;
  const values = templateValues(settings, names);
  const steps: Step[] = facts.serviceDefined || facts.dataDirExists ? dataDirSteps(ctx) : [];
  const config = renderTemplate(payload.configTemplate, values, 'toml', NYDUS_PAYLOAD.configTemplate);
  steps.push(
    { kind: 'mkdir', path: n.installDir },
    // copyFile writes a temp file and renames it over the target: a running binary is never opened (ETXTBSY).
    { kind: 'copyFile', from: payload.grpcBinary, path: n.grpcBinary, mode: 0o755 },
    { kind: 'copyFile', from: payload.overlayfsBinary, path: n.overlayfsBinary, mode: 0o755 },
    {
      kind: 'writeFile',
      path: n.configFile,
      content: config,
      mode: 0o644,
      reason: `${n.name} configuration`,
    },
  );
  if (settings.serviceManager === 'systemd') {
    const unit = renderTemplate(payload.unitTemplate!, values, 'systemd', NYDUS_PAYLOAD.unitTemplate);
    steps.push(
      { kind: 'writeFile', path: n.unitFile, content: unit, mode: 0o644, reason: `${n.name} unit` },
      { kind: 'service', action: 'daemonReload', unit: n.unit },
      { kind: 'service', action: 'enable', unit: n.unit },
    );
  } else {
    const spec = renderTemplate(
      payload.serviceSpecTemplate!,
      values,
      'json',
      NYDUS_PAYLOAD.serviceSpecTemplate,
    );
    steps.push({
      kind: 'writeFile',
      path: n.serviceSpecFile,
      content: spec,
      mode: 0o644,
      reason: `${n.name} service spec`,
    });
  }
  steps.push({ kind: 'service', action: 'restart', unit: n.unit });
  return steps;
}

function planCleanup(ctx: SnapshotterHookContext): Step[] {
  const { settings, names } = ctx;
  const n = names.nydus;
  const facts = factsOf(ctx);
  const installed = ctx.observed.existingDirs.has(n.installDir);
  if (!facts.serviceDefined && !facts.dataDirExists && !installed) return [];
  const steps = dataDirSteps(ctx);
  if (facts.serviceDefined && settings.serviceManager === 'systemd') {
    steps.push(
      { kind: 'service', action: 'disable', unit: n.unit },
      { kind: 'removeFile', path: n.unitFile, reason: `${n.name} unit` },
      { kind: 'service', action: 'daemonReload', unit: n.unit },
    );
  } else if (facts.serviceDefined) {
    steps.push({ kind: 'removeFile', path: n.serviceSpecFile, reason: `${n.name} service spec` });
  }
  steps.push({ kind: 'removeTree', path: n.installDir, reason: `${n.name} binaries and configuration` });
  return steps;
}

/**
 * Leaving nydus (an install that no longer sets it up): with positive evidence that no container uses it, the
 * same steps as cleanup (records, stop, the gated wipe, service and binaries); otherwise it keeps serving —
 * its records that no workload needs are cleaned, its service and proxy plugin stay, and the next run looks
 * again. Nothing is ever decided on meta.db that was not read.
 */
function planRetire(ctx: SnapshotterHookContext): { steps: Step[]; retain: boolean } {
  const facts = factsOf(ctx);
  const n = ctx.names.nydus;
  const installed = ctx.observed.existingDirs.has(n.installDir);
  if (!facts.serviceDefined && !facts.dataDirExists && !installed) return { steps: [], retain: false };
  const free = facts.usage?.evidence.status === 'seen' && facts.usage.containers.length === 0;
  if (free || !facts.serviceDefined) return { steps: planCleanup(ctx), retain: false };
  const clean: Step = {
    kind: 'cleanSnapshotterRecords',
    snapshotter: n.name,
    socket: n.socket,
    dataDir: n.dataDir,
  };
  return { steps: ctx.settings.snapshotterDataPolicy === 'preserve' ? [] : [clean], retain: true };
}

function containerdEdit(ctx: SnapshotterHookContext): ConfigEdit {
  const { settings, names, configVersion } = ctx;
  const n = names.nydus;
  const annotations = pluginPaths(configVersion).snapshotAnnotations;
  if (annotations === undefined) {
    throw new UsageError(
      `EXPERIMENTAL_SETUP_SNAPSHOTTER=nydus needs a containerd configuration with a schema version (found version ${configVersion})`,
      {
        input: 'EXPERIMENTAL_SETUP_SNAPSHOTTER',
        hint: 'add `version = 2` to the containerd configuration, or leave the variable unset',
      },
    );
  }
  return {
    tables: [
      {
        path: ['proxy_plugins', n.name],
        body: {
          type: 'snapshot',
          address: servicePath(settings, n.socket),
          // kubelet's image-fs statistics and emptyDir eviction look at the snapshotter's root.
          exports: { root: servicePath(settings, n.dataDir) },
        },
      },
    ],
    values: [{ path: [...annotations, 'disable_snapshot_annotations'], value: false }],
    arrayEntries: [],
  };
}

export const nydusHook: SnapshotterHook = {
  name: 'nydus',
  observe,
  planInstall,
  planInstallReady: (ctx) => [
    { kind: 'waitSnapshotter', snapshotter: ctx.names.nydus.name, timeoutMs: ctx.settings.restartTimeoutMs },
  ],
  containerdEdit,
  planCleanup,
  planRetire,
  foundOnNode: (ctx) => {
    const facts = factsOf(ctx);
    return facts.serviceDefined || facts.dataDirExists;
  },
};

/**
 * A node on the systemd bed: containerd of a given version installed the way a distribution installs it (its
 * unit, binary, configuration and socket; see distributions.ts), enabled and started by the bed's systemd.
 * Several distributions can be defined on one bed; one runs at a time unless asked otherwise.
 */
import { constants } from 'node:fs';
import { copyFile, link, mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { waitContainerdAnswer } from '../../support/node-root.js';
import { run, type RunResult } from '../exec.js';
import { containerdBinaries, type ContainerdBinaries, type ContainerdVersion } from '../versions.js';
import { CLI, REPO_ROOT } from '../../support/cli.js';
import { POD_HOST_ROOT, startSystemdBed, type SystemdBed } from './bed.js';
import {
  distributionConfig,
  distributionLayout,
  distributionUnit,
  type Distribution,
  type DistributionLayout,
} from './distributions.js';

export interface SystemdNode {
  readonly bed: SystemdBed;
  readonly version: ContainerdVersion;
  readonly binaries: ContainerdBinaries;
  readonly layout: DistributionLayout;
  /** containerd's socket as this process reaches it. */
  readonly socket: string;
  /** `ctr` of this version against the node's containerd (namespace k8s.io unless given). */
  ctr(args: readonly string[], opts?: { namespace?: string; allowFail?: boolean }): Promise<RunResult>;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The built kata-deploy CLI in a pod of this node: `--host-root /mnt/host --service-manager systemd`. */
  cli(args: readonly string[], env?: Record<string, string>): Promise<RunResult>;
  /** The unit's main pid as systemd reports it (0 when not running). */
  mainPid(unit?: string): Promise<number>;
}

/** A hard link where the file system allows it (the binaries are large), else a copy. */
async function place(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  await rm(to, { force: true });
  await link(from, to).catch(() => copyFile(from, to, constants.COPYFILE_FICLONE));
}

/** Installs a distribution's containerd on the bed (files, unit, enabled); starts it unless `start: false`. */
export async function installDistribution(
  bed: SystemdBed,
  version: ContainerdVersion,
  distribution: Distribution = 'containerd',
  opts: { start?: boolean } = {},
): Promise<SystemdNode> {
  const binaries = containerdBinaries(version);
  const l = distributionLayout(distribution, version);
  // The node's /usr/local is the bed's own directory (bound over the machine's inside the bed).
  const binDir = l.binDir === '/usr/local/bin' ? join(bed.layout.local, 'bin') : bed.at(l.binDir);
  for (const bin of [binaries.containerd, binaries.ctr, join(binaries.shimDir, 'containerd-shim-runc-v2')]) {
    await place(bin, join(binDir, basename(bin)));
  }
  await mkdir(dirname(bed.at(l.configFile)), { recursive: true });
  await writeFile(bed.at(l.configFile), distributionConfig(l, version));
  if (l.imports !== undefined) await mkdir(bed.at(dirname(l.imports)), { recursive: true });
  await mkdir(bed.at(dirname(l.socket)), { recursive: true });
  await writeFile(bed.at(`/etc/systemd/system/${l.unit}`), distributionUnit(l, binaries.fullVersion));
  await bed.systemctl(['daemon-reload']);
  await bed.systemctl(['enable', l.unit]);
  const socket = bed.at(l.socket);
  const node: SystemdNode = {
    bed,
    version,
    binaries,
    layout: l,
    socket,
    ctr: (args, o = {}) =>
      run(binaries.ctr, ['--address', socket, '--namespace', o.namespace ?? 'k8s.io', ...args], {
        allowFail: o.allowFail,
        timeoutMs: 120_000,
      }),
    async start() {
      const r = await bed.systemctl(['start', l.unit], { allowFail: true });
      if (r.code !== 0) throw new Error(`start ${l.unit} failed: ${r.stderr}\n${await bed.journal(l.unit)}`);
      await waitContainerdAnswer(socket, 30_000);
    },
    async stop() {
      await bed.systemctl(['stop', l.unit]);
    },
    cli: (args, env = {}) =>
      bed.inPod(
        process.execPath,
        [CLI, ...args, '--host-root', POD_HOST_ROOT, '--service-manager', 'systemd'],
        { env, cwd: REPO_ROOT },
      ),
    async mainPid(unit = l.unit) {
      const r = await bed.systemctl(['show', '--property', 'MainPID', '--value', unit]);
      return Number(r.stdout.trim());
    },
  };
  if (opts.start ?? true) await node.start();
  return node;
}

/** A fresh bed with one distribution's containerd running. */
export async function startSystemdNode(
  version: ContainerdVersion,
  distribution: Distribution = 'containerd',
): Promise<SystemdNode> {
  const bed = await startSystemdBed();
  try {
    return await installDistribution(bed, version, distribution);
  } catch (error) {
    await bed.teardown().catch((e: unknown) => process.stderr.write(`${String(e)}\n`));
    throw error;
  }
}

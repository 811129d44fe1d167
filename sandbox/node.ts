/**
 * The sandbox node, in one of two kinds. `systemd` (the default where systemd can start): the systemd bed
 * (test/bed/systemd), a real systemd as the node's PID 1 in a root of its own, containerd its
 * `containerd.service`, and kata-deploy run in a pod of that node (its PID namespace, the root at /mnt/host)
 * with `--service-manager systemd`. `process`: a temporary host root laid out like a node, whose containerd and
 * nydus-snapshotter are services of kata-deploy's own process supervisor; containerd runs in a private mount
 * namespace where the root's /opt, /etc/containerd and /run replace the machine's, so it reads the node paths
 * kata-deploy writes into its configuration, and its shims' sockets (always under /run/containerd/s) stay
 * inside the root; kata-deploy names the snapshotter's files by their paths under the host root.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { containerdBinaries, type ContainerdBinaries, type ContainerdVersion } from '../test/bed/index.js';
import {
  containerdServiceSpec,
  nodeContainerdConfig,
  waitContainerdAnswer,
} from '../test/support/node-root.js';
import { run, type RunResult } from '../test/bed/exec.js';
import { POD_HOST_ROOT, startSystemdNode, type SystemdNode } from '../test/bed/systemd/index.js';
import { createHost, type Host, type ServiceManager } from '../src/host/index.js';
import { DEFAULT_INSTALL_DIR, NYDUS_BASE_NAME, SERVICE_SPEC_DIR } from '../src/names/index.js';

export const CONTAINERD_UNIT = 'containerd.service';
export const NYDUS_UNIT = `${NYDUS_BASE_NAME}.service`;
/** Node paths of the snapshotter as kata-deploy installs it (no MULTI_INSTALL_SUFFIX in the sandbox). */
export const NYDUS_NODE = {
  name: NYDUS_BASE_NAME,
  installDir: `${DEFAULT_INSTALL_DIR}/${NYDUS_BASE_NAME}`,
  dataDir: `/var/lib/${NYDUS_BASE_NAME}`,
  socket: `/run/${NYDUS_BASE_NAME}/containerd-nydus-grpc.sock`,
} as const;

export type SandboxServiceManager = 'systemd' | 'process';

export interface SandboxNode {
  readonly serviceManager: SandboxServiceManager;
  /** For the report: what runs the node's services. */
  readonly describe: string;
  readonly root: string;
  readonly version: ContainerdVersion;
  readonly binaries: ContainerdBinaries;
  /** containerd's socket as this process reaches it. */
  readonly socket: string;
  readonly host: Host;
  /** A node path seen from this process. */
  at(nodePath: string): string;
  /** Unit names the supervisor may be running for this node. */
  readonly units: readonly string[];
  /** Runs the built kata-deploy CLI against this node: the arguments that say where the node is come first. */
  cli(args: readonly string[], env: Record<string, string>): Promise<RunResult>;
  /** How a user of the node runs ctr against its containerd (program, arguments, `--address <socket>`). */
  readonly ctr: readonly string[];
  /** Extra `ctr run` flags the node needs. */
  readonly runFlags: readonly string[];
  /** The flags that tell kata-deploy where the node is and how its services run. */
  readonly nodeFlags: readonly string[];
  /** Ends the node (the systemd bed); the process node is ended by the sandbox's own cleanup. */
  teardown(): Promise<void>;
}

const CLI = join(import.meta.dirname, '../bin/kata-deploy.js');

export async function createNode(
  version: ContainerdVersion,
  serviceManager: SandboxServiceManager,
): Promise<SandboxNode> {
  return serviceManager === 'systemd' ? createSystemdNode(version) : createProcessNode(version);
}

/** The sandbox's own look at the bed's units (systemctl inside the bed), for its report and its teardown. */
function bedServices(node: SystemdNode): ServiceManager {
  const systemctl = async (...args: string[]) => void (await node.bed.systemctl(args));
  return {
    kind: 'systemd',
    start: (unit) => systemctl('start', unit),
    stop: (unit) => systemctl('stop', unit),
    restart: (unit) => systemctl('restart', unit),
    daemonReload: () => systemctl('daemon-reload'),
    isActive: async (unit) =>
      (await node.bed.systemctl(['is-active', '--quiet', unit], { allowFail: true })).code === 0,
    describeFailure: (unit) => node.bed.journal(unit, 10),
  };
}

async function createSystemdNode(version: ContainerdVersion): Promise<SandboxNode> {
  const node = await startSystemdNode(version);
  const systemd = (await node.bed.systemctl(['--version'])).stdout.split('\n')[0] ?? 'systemd';
  return {
    serviceManager: 'systemd',
    describe: `${systemd} as PID 1 of the node (pid ${node.bed.pid} here), containerd.service; kata-deploy in a pod (hostPID, the root at ${POD_HOST_ROOT})`,
    root: node.bed.root,
    version,
    binaries: node.binaries,
    socket: node.socket,
    host: createHost({ root: node.bed.root, serviceManager: bedServices(node) }),
    at: (nodePath) => node.bed.at(nodePath),
    units: [NYDUS_UNIT, CONTAINERD_UNIT],
    nodeFlags: ['--host-root', POD_HOST_ROOT, '--service-manager', 'systemd'],
    // The bed's cgroup v2 has no CPU controller here (the machine binds them all to v1): no cpu.weight to set.
    runFlags: ['--cpu-shares', '0'],
    // On the node itself: `ctr run` mounts the image's snapshot client-side, at the snapshotter's node paths.
    ctr: [
      'nsenter',
      '--target',
      String(node.bed.pid),
      '--mount',
      '--pid',
      '--',
      '/usr/local/bin/ctr',
      '--address',
      node.layout.socket,
    ],
    cli: (args, env) => node.bed.inPod(process.execPath, [CLI, ...args], { env, timeoutMs: 600_000 }),
    teardown: () => node.bed.teardown(),
  };
}

async function writeSpec(root: string, unit: string, spec: string): Promise<void> {
  await writeFile(join(root, SERVICE_SPEC_DIR, `${unit}.json`), `${spec}\n`);
}

/**
 * Lays out the root and starts containerd through the supervisor. The snapshotter's service spec is not ours to
 * write: `kata-deploy install` renders it from the payload's template, as it renders the unit on systemd nodes.
 */
async function createProcessNode(version: ContainerdVersion): Promise<SandboxNode> {
  const binaries = containerdBinaries(version);
  // Short: unix socket paths under it must stay below 108 bytes.
  const root = await mkdtemp('/tmp/kd-sandbox-');
  for (const d of [
    'etc/containerd',
    SERVICE_SPEC_DIR.slice(1),
    'etc/cni/net.d',
    'run/containerd',
    'var/lib/containerd',
    'var/log',
  ]) {
    await mkdir(join(root, d), { recursive: true });
  }
  await writeFile(join(root, 'etc/containerd/config.toml'), nodeContainerdConfig(root, version));
  await writeSpec(
    root,
    CONTAINERD_UNIT,
    containerdServiceSpec({
      root,
      bin: binaries.containerd,
      shimDir: binaries.shimDir,
      extraBinds: ['/run'],
    }),
  );
  const host = createHost({ root, serviceManager: 'process' });
  const node: SandboxNode = {
    serviceManager: 'process',
    describe: "kata-deploy's process supervisor (containerd in a private mount namespace of the host root)",
    root,
    version,
    binaries,
    socket: join(root, 'run/containerd/containerd.sock'),
    host,
    at: (nodePath) => join(root, nodePath),
    units: [NYDUS_UNIT, CONTAINERD_UNIT],
    ctr: [binaries.ctr, '--address', join(root, 'run/containerd/containerd.sock')],
    runFlags: [],
    nodeFlags: [
      '--host-root',
      root,
      '--service-manager',
      'process',
      '--runtime',
      'containerd',
      '--containerd-socket',
      '/run/containerd/containerd.sock',
      '--containerd-bin',
      binaries.containerd,
    ],
    cli: (args, env) => run(process.execPath, [CLI, ...args], { env, allowFail: true, timeoutMs: 600_000 }),
    teardown: async () => undefined,
  };
  await host.services.start(CONTAINERD_UNIT);
  await waitContainerdAnswer(node.socket);
  return node;
}

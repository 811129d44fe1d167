/**
 * The sandbox node: a temporary host root laid out like a node, whose containerd and nydus-snapshotter are
 * services of kata-deploy's own process supervisor. containerd runs in a private mount namespace where the
 * root's /opt, /etc/containerd and /run replace the machine's: it reads the node paths kata-deploy writes into
 * its configuration, and its shims' sockets (always under /run/containerd/s) stay inside the root. With
 * `--service-manager process` kata-deploy itself names the snapshotter's files by their paths under the host
 * root, so the snapshotter needs no namespace.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { containerdBinaries, type ContainerdBinaries, type ContainerdVersion } from '../test/bed/index.js';
import {
  containerdServiceSpec,
  nodeContainerdConfig,
  waitContainerdAnswer,
} from '../test/support/node-root.js';
import { createHost, type Host } from '../src/host/index.js';
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

export interface SandboxNode {
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
}

async function writeSpec(root: string, unit: string, spec: string): Promise<void> {
  await writeFile(join(root, SERVICE_SPEC_DIR, `${unit}.json`), `${spec}\n`);
}

/**
 * Lays out the root and starts containerd through the supervisor. The snapshotter's service spec is not ours to
 * write: `kata-deploy install` renders it from the payload's template, as it renders the unit on systemd nodes.
 */
export async function createNode(version: ContainerdVersion): Promise<SandboxNode> {
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
    root,
    version,
    binaries,
    socket: join(root, 'run/containerd/containerd.sock'),
    host,
    at: (nodePath) => join(root, nodePath),
    units: [NYDUS_UNIT, CONTAINERD_UNIT],
  };
  await host.services.start(CONTAINERD_UNIT);
  await waitContainerdAnswer(node.socket);
  return node;
}

/**
 * Nodes for the DaemonSet mode's integration tests and bench: a temporary host root with a real containerd
 * run by the process supervisor (test/support/node-root.ts), or containerd 2.1 with nydus
 * (test/support/snapshotter-node.ts), and the settings the pod runs with on it.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { containerdBinaries, type ContainerdVersion } from '../bed/index.js';
import { createHost, type Host } from '../../src/host/index.js';
import { REPO_ROOT } from '../support/cli.js';
import { containerdServiceSpec, nodeContainerdConfig, waitContainerdAnswer } from '../support/node-root.js';
import { SnapshotterNode } from '../support/snapshotter-node.js';

const UNIT = 'containerd.service';

export interface Bed {
  readonly root: string;
  readonly socket: string;
  readonly host: Host;
  readonly version: ContainerdVersion;
  readonly payload: string;
  readonly env: Record<string, string>;
  dispose(): Promise<void>;
}

/** containerd 2.1 with CRI and the real nydus-snapshotter's payload, set up by the install. */
export async function bed21Nydus(nydusPayload: string): Promise<Bed> {
  const n = await SnapshotterNode.start(nydusPayload);
  return {
    root: n.root,
    socket: n.socket,
    host: n.host,
    version: '2.1',
    payload: nydusPayload,
    env: {
      SHIMS_X86_64: 'qemu',
      EXPERIMENTAL_SETUP_SNAPSHOTTER: 'nydus',
      SNAPSHOTTER_HANDLER_MAPPING_X86_64: 'qemu:nydus',
    },
    dispose: () => n.dispose(),
  };
}

/** containerd `version` with CRI and the fixture payload (shims qemu and clh). */
export async function plainBed(version: ContainerdVersion): Promise<Bed> {
  const bins = containerdBinaries(version);
  const root = await mkdtemp('/tmp/kdd-');
  for (const d of [
    'etc/containerd',
    'etc/kata-deploy/services',
    'etc/cni/net.d',
    'run/containerd',
    'var/lib/containerd',
  ])
    await mkdir(join(root, d), { recursive: true });
  await writeFile(join(root, 'etc/containerd/config.toml'), nodeContainerdConfig(root, version));
  await writeFile(
    join(root, 'etc/kata-deploy/services', `${UNIT}.json`),
    containerdServiceSpec({ root, bin: bins.containerd, shimDir: bins.shimDir }),
  );
  const host = createHost({ root, serviceManager: 'process' });
  const socket = join(root, 'run/containerd/containerd.sock');
  await host.services.start(UNIT);
  await waitContainerdAnswer(socket);
  return {
    root,
    socket,
    host,
    version,
    payload: join(REPO_ROOT, 'test/fixtures/payload'),
    env: { SHIMS_X86_64: 'qemu clh' },
    async dispose() {
      await host.services.stop(UNIT).catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    },
  };
}

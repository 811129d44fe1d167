/** Observes a containerd node: version, snapshotter plugins, namespaces and what each namespace holds. */
import { ContainerdClient, ContainerdError, type Plugin } from './api/index.js';
import { probeSnapshotterSocket } from './snapshotter-liveness.js';

export const SNAPSHOTTER_PLUGIN_TYPE = 'io.containerd.snapshotter.v1';

export interface SnapshotterPluginInfo {
  id: string;
  /** Proxy plugins are separate processes reached on `address`. */
  proxy: boolean;
  address: string | undefined;
  /** Why containerd could not load it, if it could not. */
  initError: string | undefined;
  /** For proxy plugins: whether the snapshotter itself answers on its socket. */
  answers: boolean | undefined;
  answerError: string | undefined;
}

export interface NamespaceCounts {
  name: string;
  images: number;
  containers: number;
  runningTasks: number;
  tasks: number;
  /** Snapshots per snapshotter as containerd lists them (records without backend data are not listed). */
  snapshots: Record<string, number | { error: string }>;
}

export interface ContainerdInfo {
  socket: string;
  version: string;
  revision: string;
  uuid: string;
  pid: number;
  snapshotters: SnapshotterPluginInfo[];
  namespaces: NamespaceCounts[];
}

async function describeSnapshotters(client: ContainerdClient): Promise<SnapshotterPluginInfo[]> {
  const plugins: Plugin[] = await client.introspection.plugins([`type==${SNAPSHOTTER_PLUGIN_TYPE}`]);
  return Promise.all(
    plugins.map(async (p) => {
      const address = p.exports['address'];
      const proxy = address !== undefined;
      const probe = proxy ? await probeSnapshotterSocket(address, 2_000) : undefined;
      const answerError = probe === undefined || probe.state === 'answers' ? undefined : probe.detail;
      return {
        id: p.id,
        proxy,
        address,
        initError: p.initError?.message,
        answers: proxy ? answerError === undefined : undefined,
        answerError,
      };
    }),
  );
}

async function countNamespace(
  client: ContainerdClient,
  name: string,
  snapshotters: string[],
): Promise<NamespaceCounts> {
  const [images, containers, tasks] = await Promise.all([
    client.images.list(name),
    client.containers.list(name),
    client.tasks.list(name),
  ]);
  const snapshots: NamespaceCounts['snapshots'] = {};
  await Promise.all(
    snapshotters.map(async (sn) => {
      try {
        snapshots[sn] = (await client.snapshots.list(name, sn)).length;
      } catch (error) {
        snapshots[sn] = { error: error instanceof ContainerdError ? error.message : String(error) };
      }
    }),
  );
  return {
    name,
    images: images.length,
    containers: containers.length,
    tasks: tasks.length,
    runningTasks: tasks.filter((t) => t.status === 'RUNNING').length,
    snapshots,
  };
}

export async function gatherContainerdInfo(client: ContainerdClient): Promise<ContainerdInfo> {
  const [version, server, snapshotters, namespaces] = await Promise.all([
    client.version(),
    client.introspection.server(),
    describeSnapshotters(client),
    client.namespaces.list(),
  ]);
  const usable = snapshotters.filter((s) => s.initError === undefined).map((s) => s.id);
  const counts = await Promise.all(namespaces.map((n) => countNamespace(client, n.name, usable)));
  return {
    socket: client.transport.socket,
    version: version.version,
    revision: version.revision,
    uuid: server.uuid,
    pid: server.pid,
    snapshotters,
    namespaces: counts,
  };
}

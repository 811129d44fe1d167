// The real nydus-snapshotter (containerd-nydus-grpc) as a bed's proxy snapshotter.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { nydusConfig } from './config.js';
import { unmountUnder } from './mounts.js';
import { Service, tailFile } from './processes.js';
import { nydusBinaries } from './versions.js';
import { socketAnswers, waitUntil } from './wait.js';

export interface NydusHandle {
  name: 'nydus';
  socket: string;
  dataDir: string;
  configPath: string;
  running(): boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Unmounts what is mounted under dataDir, then removes and recreates it. */
  wipe(): Promise<void>;
}

export interface NydusPaths {
  socket: string;
  dataDir: string;
  configPath: string;
  logPath: string;
}

/** The handle plus what the bed's teardown needs. */
export interface ManagedNydus extends NydusHandle {
  readonly pid: number | undefined;
  killSync(): void;
}

const START_TIMEOUT_MS = 15_000;

export async function createNydus(paths: NydusPaths, env: NodeJS.ProcessEnv): Promise<ManagedNydus> {
  const bins = nydusBinaries();
  await mkdir(paths.dataDir, { recursive: true });
  await writeFile(
    paths.configPath,
    nydusConfig({ dataDir: paths.dataDir, socket: paths.socket, overlayfsPath: bins.overlayfs }),
  );
  const service = new Service({
    name: 'containerd-nydus-grpc',
    file: bins.grpc,
    args: ['--config', paths.configPath, '--log-to-stdout'],
    logPath: paths.logPath,
    env,
  });

  const start = async (): Promise<void> => {
    await rm(paths.socket, { force: true });
    await mkdir(paths.dataDir, { recursive: true });
    service.start();
    await waitUntil(async () => service.running() && (await socketAnswers(paths.socket)), {
      timeoutMs: START_TIMEOUT_MS,
      intervalMs: 20,
      describe: async () => {
        const why =
          service.startError?.message ?? (service.running() ? 'socket never answered' : 'process exited');
        return `nydus-snapshotter did not come up on ${paths.socket} within ${START_TIMEOUT_MS} ms (${why}); log ${paths.logPath}:\n${await tailFile(paths.logPath)}`;
      },
    });
  };

  const wipe = async (): Promise<void> => {
    const left = await unmountUnder(paths.dataDir);
    if (left.length > 0) {
      throw new Error(
        `cannot wipe ${paths.dataDir}: still mounted: ${left.map((m) => m.mountPoint).join(', ')}; stop what uses them first`,
      );
    }
    await rm(paths.dataDir, { recursive: true, force: true });
    await mkdir(paths.dataDir, { recursive: true });
  };

  return {
    name: 'nydus',
    socket: paths.socket,
    dataDir: paths.dataDir,
    configPath: paths.configPath,
    get pid() {
      return service.pid;
    },
    running: () => service.running(),
    start,
    stop: () => service.stop(),
    wipe,
    killSync: () => service.killSync(),
  };
}

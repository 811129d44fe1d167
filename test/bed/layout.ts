// Where everything of one bed lives. Unix socket paths must stay under ~108 bytes, so when the root is long
// the sockets move to a short directory of their own under /tmp.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir } from 'node:fs/promises';
import path from 'node:path';

export interface BedLayout {
  root: string;
  /** Separate short directory for sockets, or undefined when they live in root. */
  socketDir: string | undefined;
  socket: string;
  ttrpcSocket: string;
  debugSocket: string;
  configPath: string;
  containerdRoot: string;
  containerdState: string;
  metaDbPath: string;
  containerdLog: string;
  optDir: string;
  cniConfDir: string;
  cniBinDir: string;
  runcRoot: string;
  imagesDir: string;
  nydus: { socket: string; dataDir: string; configPath: string; logPath: string };
  /** Unique per bed, so container cgroups of parallel beds never collide. */
  cgroupName: string;
}

const MAX_SOCKET_PATH = 100;
const LONGEST_SOCKET_NAME = 'containerd.sock.ttrpc';

async function prepareRoot(requested: string | undefined): Promise<string> {
  if (requested === undefined) return mkdtemp('/tmp/kd-');
  const root = path.resolve(requested);
  if (root.split('/').filter(Boolean).length < 2) {
    throw new Error(
      `bed root "${requested}" is too close to /: teardown removes it, pick a dedicated directory`,
    );
  }
  await mkdir(root, { recursive: true });
  const existing = await readdir(root);
  if (existing.length > 0) {
    throw new Error(
      `bed root ${root} is not empty (teardown would remove ${existing.length} entries): use a new directory`,
    );
  }
  return root;
}

export async function createLayout(requestedRoot: string | undefined): Promise<BedLayout> {
  const root = await prepareRoot(requestedRoot);
  const socketDir =
    path.join(root, LONGEST_SOCKET_NAME).length < MAX_SOCKET_PATH ? undefined : await mkdtemp('/tmp/kd-s-');
  const sockets = socketDir ?? root;
  const containerdRoot = path.join(root, 'root');
  return {
    root,
    socketDir,
    socket: path.join(sockets, 'containerd.sock'),
    ttrpcSocket: path.join(sockets, LONGEST_SOCKET_NAME),
    debugSocket: path.join(sockets, 'debug.sock'),
    configPath: path.join(root, 'containerd.toml'),
    containerdRoot,
    containerdState: path.join(root, 'state'),
    metaDbPath: path.join(containerdRoot, 'io.containerd.metadata.v1.bolt', 'meta.db'),
    containerdLog: path.join(root, 'containerd.log'),
    optDir: path.join(root, 'opt'),
    cniConfDir: path.join(root, 'cni', 'net.d'),
    cniBinDir: path.join(root, 'cni', 'bin'),
    runcRoot: path.join(root, 'runc'),
    imagesDir: path.join(root, 'images'),
    nydus: {
      socket: path.join(sockets, 'nydus.sock'),
      dataDir: path.join(root, 'nydus'),
      configPath: path.join(root, 'nydus.toml'),
      logPath: path.join(root, 'nydus.log'),
    },
    cgroupName: `kata-bed-${path.basename(root).replace(/[^A-Za-z0-9_-]/g, '')}-${randomBytes(3).toString('hex')}`,
  };
}

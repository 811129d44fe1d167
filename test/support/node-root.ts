/**
 * A temporary host root laid out like a node, with a real containerd run by kata-deploy's own process supervisor
 * (shared by the lifecycle integration tests and the sandbox). Services run in a private mount namespace where
 * directories of the root are bind-mounted over the node paths they stand for (`<root>/opt` over `/opt`, …), so
 * they read exactly the node paths kata-deploy writes into configuration files, while this process reaches the
 * same files under `--host-root`. containerd's own root, state and sockets are plain paths inside the root.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerdVersion } from '../bed/index.js';
import { ContainerdClient } from '../../src/containerd/api/index.js';

/** The containerd configuration the node's operator wrote before kata-deploy came. */
export function nodeContainerdConfig(root: string, version: ContainerdVersion): string {
  const cri = version === '2.1' ? 'io.containerd.cri.v1.runtime' : 'io.containerd.grpc.v1.cri';
  return `# containerd of the sandbox node (kata-deploy integration test)
version = ${version === '2.1' ? 3 : 2}
root = "${root}/var/lib/containerd"
state = "${root}/run/containerd"
disabled_plugins = ["io.containerd.nri.v1.nri"] # NRI would listen in /var/run/nri

[grpc]
  address = "${root}/run/containerd/containerd.sock"

[ttrpc]
  address = "${root}/run/containerd/containerd.sock.ttrpc"

[debug]
  address = "${root}/run/containerd/debug.sock"
  level = "info"

[plugins."io.containerd.internal.v1.opt"]
  path = "${root}/var/lib/containerd-opt"

[plugins."${cri}".cni]
  conf_dir = "${root}/etc/cni/net.d"
  bin_dir = "${root}/opt-cni-bin"

[plugins."${cri}".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"
`;
}

export interface NamespacedService {
  readonly root: string;
  /** Node directories to replace by `<root><dir>` (each must exist on the machine; `<root><dir>` is optional). */
  readonly binds: readonly string[];
  /** Shell commands run inside the namespace before the program (after the binds). */
  readonly prelude?: string;
  /** The program and its arguments, as seen inside the namespace. */
  readonly exec: readonly string[];
  readonly path: string;
  /** Node path of the log file (under the root). */
  readonly logFile: string;
}

const shellQuote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * A process-supervisor spec (`<root>/etc/kata-deploy/services/<unit>.json`). `unshare` and `sh` exec in place,
 * so the pid the supervisor records is the program's own.
 */
export function namespacedServiceSpec(s: NamespacedService): string {
  const binds = s.binds
    .map((d) => `if [ -d "$ROOT${d}" ]; then mount --bind "$ROOT${d}" ${d}; fi; `)
    .join('');
  const script = `${binds}${s.prelude ?? ''}exec ${s.exec.map(shellQuote).join(' ')}`;
  return JSON.stringify({
    command: '/usr/bin/unshare',
    args: ['--mount', '--propagation', 'private', '--', '/bin/sh', '-c', script],
    env: { ROOT: s.root, PATH: s.path },
    logFile: s.logFile,
  });
}

/**
 * containerd's spec. `refuse`: a containerd that exits when its config mentions kata (to test the restore
 * after a failed restart). `breakCri`: a containerd whose CRI plugin fails to load once its config mentions
 * kata-deploy's drop-in (see `writeCriBreaker`). `extraBinds`: more node directories to take from the root (the sandbox
 * adds /run and /var/lib, where the nydus snapshotter's socket and data dir live).
 */
export function containerdServiceSpec(opts: {
  root: string;
  bin: string;
  shimDir: string;
  refuse?: boolean;
  breakCri?: boolean;
  extraBinds?: readonly string[];
}): string {
  const refuse = opts.refuse
    ? 'if grep -q kata-qemu /etc/containerd/config.toml; then echo "refusing a kata config" >&2; exit 1; fi; '
    : '';
  const breakCri = opts.breakCri
    ? `if grep -q 'kata-deploy\\.toml' /etc/containerd/config.toml; then exec ${shellQuote(opts.bin)} --config ${CRI_BREAKER}; fi; `
    : '';
  const guard = refuse + breakCri;
  return namespacedServiceSpec({
    root: opts.root,
    binds: ['/opt', '/etc/containerd', ...(opts.extraBinds ?? [])],
    prelude: guard,
    exec: [opts.bin, '--config', '/etc/containerd/config.toml'],
    path: `${opts.shimDir}:/usr/sbin:/usr/bin:/sbin:/bin`,
    logFile: '/var/log/containerd.log',
  });
}

const CRI_BREAKER = '/etc/containerd/cri-breaker.toml';

/**
 * A stand-in for a drop-in that makes the CRI plugin fail to load (containerd 2.x): `cri-breaker.toml` imports
 * the node's config and then `breaks-cri.toml`, whose default runtime does not exist, so containerd answers on
 * its socket while its CRI plugins fail with "no corresponding runtime configured". A spec made with
 * `breakCri` starts containerd from it whenever the node's config imports kata-deploy's drop-in.
 */
export async function writeCriBreaker(root: string): Promise<void> {
  await writeFile(
    join(root, CRI_BREAKER),
    `version = 3\nimports = ["/etc/containerd/config.toml", "/etc/containerd/breaks-cri.toml"]\n`,
  );
  await writeFile(
    join(root, 'etc/containerd/breaks-cri.toml'),
    'version = 3\n\n[plugins."io.containerd.cri.v1.runtime".containerd]\n  default_runtime_name = "no-such-runtime"\n',
  );
}

/** Waits until containerd answers its Version call on the socket. */
export async function waitContainerdAnswer(socket: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    // A fresh channel per attempt: a channel that failed to connect waits out its reconnect backoff.
    const client = ContainerdClient.open({ socket, timeoutMs: 1000 });
    try {
      await client.version();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      client.close();
    }
  }
}

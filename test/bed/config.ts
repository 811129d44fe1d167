// Config files for a bed's containerd and nydus-snapshotter, as strings (pure, unit-tested).
import type { ContainerdVersion } from './versions.js';

export interface ContainerdConfigInput {
  version: ContainerdVersion;
  root: string;
  state: string;
  grpcSocket: string;
  ttrpcSocket: string;
  debugSocket: string;
  /** Replaces /opt/containerd, which the opt plugin would otherwise create on the host. */
  optDir: string;
  cri: boolean;
  /** With CRI on: CNI config and plugin dirs inside the bed (CRI would create /etc/cni/net.d otherwise). */
  cniConfDir?: string;
  cniBinDir?: string;
  nydusSocket?: string;
  /** The erofs snapshotter and differ set up as kata-deploy sets them up on containerd 2.1. */
  erofs?: boolean;
  extraConfig?: string;
}

/** TOML basic string; JSON escaping is a valid subset for the paths and names we write. */
export function tomlString(value: string): string {
  return JSON.stringify(value);
}

export function configVersionFor(version: ContainerdVersion): 2 | 3 {
  return version === '2.1' ? 3 : 2;
}

/** Plugins the bed switches off: CRI unless asked for, and NRI, whose socket would live in /var/run/nri. */
export function disabledPlugins(version: ContainerdVersion, cri: boolean): string[] {
  const criPlugins =
    version === '2.1'
      ? ['io.containerd.grpc.v1.cri', 'io.containerd.cri.v1.images', 'io.containerd.cri.v1.runtime']
      : ['io.containerd.grpc.v1.cri'];
  return [...(cri ? [] : criPlugins), 'io.containerd.nri.v1.nri'];
}

export function containerdConfig(input: ContainerdConfigInput): string {
  const lines = [
    `version = ${configVersionFor(input.version)}`,
    `root = ${tomlString(input.root)}`,
    `state = ${tomlString(input.state)}`,
    `disabled_plugins = [${disabledPlugins(input.version, input.cri).map(tomlString).join(', ')}]`,
    '',
    '[grpc]',
    `  address = ${tomlString(input.grpcSocket)}`,
    '',
    '[ttrpc]',
    `  address = ${tomlString(input.ttrpcSocket)}`,
    '',
    '[debug]',
    `  address = ${tomlString(input.debugSocket)}`,
    '',
    '[plugins."io.containerd.internal.v1.opt"]',
    `  path = ${tomlString(input.optDir)}`,
  ];
  if (input.cri) {
    const table =
      input.version === '2.1'
        ? '[plugins."io.containerd.cri.v1.runtime".cni]'
        : '[plugins."io.containerd.grpc.v1.cri".cni]';
    lines.push('', table);
    if (input.cniConfDir !== undefined) lines.push(`  conf_dir = ${tomlString(input.cniConfDir)}`);
    if (input.cniBinDir !== undefined) lines.push(`  bin_dir = ${tomlString(input.cniBinDir)}`);
  }
  if (input.nydusSocket !== undefined) {
    lines.push(
      '',
      '[proxy_plugins.nydus]',
      '  type = "snapshot"',
      `  address = ${tomlString(input.nydusSocket)}`,
    );
  }
  if (input.erofs) {
    lines.push(
      '',
      '[plugins."io.containerd.service.v1.diff-service"]',
      '  default = ["erofs", "walking"]',
      '',
      '[plugins."io.containerd.snapshotter.v1.erofs"]',
      '  enable_fsverity = false',
      '  set_immutable = true',
      '',
      '[plugins."io.containerd.differ.v1.erofs"]',
      '  mkfs_options = ["-T0", "--mkfs-time", "--sort=none"]',
    );
  }
  if (input.extraConfig) lines.push('', input.extraConfig.trimEnd());
  return `${lines.join('\n')}\n`;
}

export interface NydusConfigInput {
  dataDir: string;
  socket: string;
  overlayfsPath: string;
}

/** Kata's guest-pulling configuration: no nydusd, ordinary OCI images served as overlay snapshots. */
export function nydusConfig(input: NydusConfigInput): string {
  return [
    'version = 1',
    `root = ${tomlString(input.dataDir)}`,
    `address = ${tomlString(input.socket)}`,
    '',
    '[daemon]',
    'fs_driver = "proxy"',
    '',
    '[snapshot]',
    'enable_kata_volume = true',
    `nydus_overlayfs_path = ${tomlString(input.overlayfsPath)}`,
    '',
  ].join('\n');
}

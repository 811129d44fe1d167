/** Typed results of the containerd API, converted from the wire form (timestamps as Date, sizes as number). */

export type SnapshotKind = 'UNKNOWN' | 'VIEW' | 'ACTIVE' | 'COMMITTED';
export type TaskStatus = 'UNKNOWN' | 'CREATED' | 'RUNNING' | 'STOPPED' | 'PAUSED' | 'PAUSING';

export interface SnapshotInfo {
  /** The metadata key (`sha256:<chainID>` for committed layers, the container id for a rootfs). */
  name: string;
  /** The parent's metadata key; empty for a chain's bottom layer. */
  parent: string;
  kind: SnapshotKind;
  createdAt: Date | undefined;
  updatedAt: Date | undefined;
  labels: Record<string, string>;
}

export interface Mount {
  type: string;
  source: string;
  target: string;
  options: string[];
}

export interface Usage {
  size: number;
  inodes: number;
}

export interface Container {
  id: string;
  labels: Record<string, string>;
  image: string;
  runtime: string;
  snapshotter: string;
  snapshotKey: string;
  createdAt: Date | undefined;
  updatedAt: Date | undefined;
  sandbox: string;
}

export interface Task {
  containerId: string;
  /** The exec id; empty for the container's init process. */
  id: string;
  pid: number;
  status: TaskStatus;
  exitStatus: number;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations: Record<string, string>;
}

export interface Image {
  name: string;
  labels: Record<string, string>;
  target: Descriptor | undefined;
  createdAt: Date | undefined;
  updatedAt: Date | undefined;
}

export interface ContentInfo {
  digest: string;
  size: number;
  createdAt: Date | undefined;
  updatedAt: Date | undefined;
  labels: Record<string, string>;
}

export interface Lease {
  id: string;
  createdAt: Date | undefined;
  labels: Record<string, string>;
}

export interface LeaseResource {
  id: string;
  /** `content`, `ingests`, or `snapshots/<snapshotter>`. */
  type: string;
}

export interface Namespace {
  name: string;
  labels: Record<string, string>;
}

export interface Plugin {
  type: string;
  id: string;
  requires: string[];
  exports: Record<string, string>;
  capabilities: string[];
  /** Set when the plugin failed to initialise. */
  initError: { code: number; message: string } | undefined;
}

export interface ServerInfo {
  uuid: string;
  pid: number;
  pidns: number;
}

export interface VersionInfo {
  version: string;
  revision: string;
}

/** One condition of CRI's runtime status (`RuntimeReady`, `NetworkReady`). */
export interface CriCondition {
  type: string;
  status: boolean;
  reason: string;
  message: string;
}

/** What containerd's CRI plugin reports in RuntimeService/Status. */
export interface CriStatus {
  /**
   * The runtime handlers it serves, sorted: the `runtime_handlers` list and the runtimes of the loaded CRI
   * configuration (`containerd.runtimes` in the verbose `config` info; containerd before 1.7 only has this).
   */
  handlers: string[];
  conditions: CriCondition[];
}

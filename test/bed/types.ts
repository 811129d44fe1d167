// The bed's public shapes (a contract for every integration test, bench and the sandbox).
import type { RunResult } from './exec.js';
import type { GeneratedImage } from './image.js';
import type { NydusHandle } from './nydus.js';
import type { ContainerdBinaries, ContainerdVersion } from './versions.js';

export interface BedOptions {
  version: ContainerdVersion;
  /** Start nydus-snapshotter and register it as proxy plugin `nydus`. Default true. */
  nydus?: boolean;
  /** Keep the CRI plugins. Default false. */
  cri?: boolean;
  /** Temp dir by default; must be new or empty, teardown removes it. */
  root?: string;
  /** TOML appended to the containerd config. */
  extraConfig?: string;
  /**
   * containerd's erofs snapshotter and differ (2.1 only): mkfs.erofs on containerd's PATH and the diff service
   * trying erofs first. fs-verity stays off (this kernel has no CONFIG_FS_VERITY). Default false.
   */
  erofs?: boolean;
}

export interface CtrOptions {
  namespace?: string;
  allowFail?: boolean;
  timeoutMs?: number;
}

export interface ImageTarget {
  namespace?: string;
  /** Default 'nydus' ('overlayfs' on a bed without nydus; 'erofs' on a bed with erofs and without nydus). */
  snapshotter?: string;
}

export interface Bed {
  version: ContainerdVersion;
  root: string;
  socket: string;
  configPath: string;
  containerdRoot: string;
  containerdState: string;
  /** <containerdRoot>/io.containerd.metadata.v1.bolt/meta.db */
  metaDbPath: string;
  /** containerd's and nydus-snapshotter's output, appended across restarts. */
  logs: { containerd: string; nydus: string | undefined };
  binaries: ContainerdBinaries;
  nydus: NydusHandle | undefined;
  /** ctr of this version against this bed's socket; throws on a non-zero exit unless allowFail. */
  ctr(args: string[], opts?: CtrOptions): Promise<RunResult>;
  /** `ctr images import` with unpack into the snapshotter (`--local` on 1.7 and 2.1). */
  importImage(image: GeneratedImage, opts?: ImageTarget): Promise<void>;
  /** Pulls from a registry with the flags this version needs (plain HTTP; `--local` on 1.7 and 2.1). */
  pull(ref: string, opts?: ImageTarget): Promise<void>;
  /**
   * A real runc container (`sleep 3600` from the busybox image by default) whose task is RUNNING. Runs with
   * `--null-io`, in the bed's own cgroup parent and runc root. Imports the image first if it is not listed.
   */
  runContainer(id: string, opts?: ImageTarget & { image?: GeneratedImage }): Promise<void>;
  /** Container record and its active snapshot, no task (`ctr containers create`). */
  createContainer(id: string, image: GeneratedImage, opts?: ImageTarget): Promise<void>;
  /** SIGTERM (SIGKILL after 10 s); running tasks and their shims stay up, as on a real node. */
  stopContainerd(): Promise<void>;
  /** Same config; resolves once the socket answers. */
  startContainerd(): Promise<void>;
  /** Live processes this bed started: the daemons, the shims and the container processes. */
  processes(): { name: string; pid: number }[];
  /**
   * Deletes tasks, kills what the bed started (by pid, shims, its cgroups), stops containerd and nydus,
   * unmounts everything under the root and removes it. Idempotent; throws if something stayed behind.
   */
  teardown(): Promise<void>;
}

/** The typed view of containerd's meta.db that decode.ts produces. Keys are metadata keys unless noted. */

export type Labels = Record<string, string>;

export interface MetaDbView {
  readonly path: string;
  readonly txid: bigint;
  /** `v1/version`: 3 for containerd 1.6/1.7, 4 for 2.x; undefined in a database containerd never initialised. */
  readonly dbVersion: number | undefined;
  readonly namespaces: NamespaceView[];
}

export interface SnapshotterView {
  /** The bucket's NextSequence counter: the highest number used in a backend key so far. */
  readonly sequence: bigint;
  readonly snapshots: Map<string, SnapshotRecord>;
}

export interface NamespaceView {
  readonly name: string;
  readonly labels: Labels;
  readonly snapshotters: Map<string, SnapshotterView>;
  readonly containers: Map<string, ContainerRecord>;
  readonly images: Map<string, ImageRecord>;
  /** Every content blob of the namespace with its labels (empty when it has none), by digest. */
  readonly contentLabels: Map<string, Labels>;
  readonly leases: Map<string, LeaseRecord>;
}

export interface SnapshotRecord {
  readonly key: string;
  /** The `name` field: the key the backend snapshotter knows this snapshot by, "<ns>/<seq>/<key>". */
  readonly backendKey: string;
  /** The parent's metadata key; absent for a chain's first layer. */
  readonly parent?: string;
  /** Keys listed in the `children` bucket; may name records that no longer exist (GC leaves them). */
  readonly children: string[];
  readonly labels: Labels;
  readonly createdAt?: Date;
  readonly updatedAt?: Date;
}

export interface ContainerRecord {
  readonly id: string;
  readonly snapshotter?: string;
  readonly snapshotKey?: string;
  readonly image?: string;
  /** `runtime/name`, e.g. io.containerd.runc.v2 or io.containerd.kata-qemu.v2. */
  readonly runtime?: string;
  readonly sandboxId?: string;
  readonly labels: Labels;
  readonly createdAt?: Date;
  readonly updatedAt?: Date;
}

export interface ImageTarget {
  readonly digest?: string;
  readonly mediaType?: string;
  readonly size?: number;
}

export interface ImageRecord {
  readonly name: string;
  readonly target: ImageTarget;
  readonly labels: Labels;
  readonly createdAt?: Date;
  readonly updatedAt?: Date;
}

export interface LeaseRecord {
  readonly id: string;
  readonly labels: Labels;
  readonly createdAt?: Date;
  /** Snapshot keys held by the lease, per snapshotter. */
  readonly snapshots: Map<string, string[]>;
  readonly content: string[];
  readonly ingests: string[];
  /** Image names (2.x). */
  readonly images: string[];
}

/**
 * A typed containerd client. Namespaced calls take the namespace as their first argument, so one client
 * serves every namespace of a node.
 */
import { existsSync, statSync } from 'node:fs';
import {
  ContainerdError,
  ContainerdUnreachableError,
  DeadlineExceededError,
  UnimplementedError,
} from './errors.js';
import { parseContainerdVersion } from '../config/version.js';
import { CRI_RUNTIME_SERVICE } from './proto.js';
import { Transport, type CallOptions } from './transport.js';
import * as W from './wire.js';
import type * as T from './types.js';

export interface ClientOptions {
  /** Path of containerd's gRPC unix socket. */
  socket: string;
  /** Deadline of one call, in milliseconds. @default 5000 */
  timeoutMs?: number;
  /** Deadline of a whole listing stream, in milliseconds. @default 60000 */
  streamTimeoutMs?: number;
}

type Rec = Record<string, unknown>;
const ns = (namespace: string, timeoutMs?: number): CallOptions => ({ namespace, timeoutMs });

export class ContainerdClient {
  readonly transport: Transport;

  private constructor(transport: Transport) {
    this.transport = transport;
  }

  /** Opens a client without contacting containerd. Use `connect` to also prove the socket is containerd. */
  static open(options: ClientOptions): ContainerdClient {
    return new ContainerdClient(
      new Transport(options.socket, { call: options.timeoutMs, stream: options.streamTimeoutMs }),
    );
  }

  /** Opens a client and checks that containerd answers on the socket; fails with one clear line if not. */
  static async connect(options: ClientOptions): Promise<ContainerdClient> {
    const socket = options.socket;
    const hint = `check that containerd is running and that ${socket} is the [grpc] address in its config (flag --containerd-socket)`;
    if (!existsSync(socket)) {
      throw new ContainerdUnreachableError(`containerd socket ${socket} does not exist`, {
        input: socket,
        hint,
      });
    }
    if (!statSync(socket).isSocket()) {
      throw new ContainerdUnreachableError(`${socket} is not a unix socket`, { input: socket, hint });
    }
    const client = ContainerdClient.open(options);
    try {
      const answer = await client.version({ timeoutMs: client.transport.timeouts.connect });
      if (parseContainerdVersion(answer.version) === undefined) {
        client.close();
        const got =
          answer.version === ''
            ? 'an empty version'
            : `version ${JSON.stringify(answer.version.slice(0, 80))}`;
        throw new ContainerdUnreachableError(
          `cannot talk to containerd on ${socket}: something answers there, but not as containerd (${got})`,
          { input: socket, hint },
        );
      }
      return client;
    } catch (error) {
      if (error instanceof ContainerdUnreachableError) throw error;
      client.close();
      const reason =
        error instanceof UnimplementedError
          ? 'something answers there, but it is not containerd (no containerd Version service)'
          : error instanceof DeadlineExceededError
            ? `no gRPC answer within ${client.transport.timeouts.connect} ms (is it containerd's ttrpc or debug socket?)`
            : error instanceof ContainerdError
              ? error.message
              : String(error);
      throw new ContainerdUnreachableError(`cannot talk to containerd on ${socket}: ${reason}`, {
        input: socket,
        hint,
        cause: error,
      });
    }
  }

  close(): void {
    this.transport.close();
  }

  async version(options: CallOptions = {}): Promise<T.VersionInfo> {
    const r = await this.transport.unary<Rec>('version.v1.Version', 'Version', {}, options);
    return { version: String(r['version'] ?? ''), revision: String(r['revision'] ?? '') };
  }

  /**
   * containerd's CRI plugin, on the same socket. A CRI plugin that is disabled or failed to load is not
   * registered, so its calls fail with UnimplementedError.
   */
  readonly cri = {
    /** Runtime status, verbose: the handlers the CRI plugin serves and its conditions. */
    status: async (options: CallOptions = {}): Promise<T.CriStatus> => {
      const r = await this.transport.unary<Rec>(CRI_RUNTIME_SERVICE, 'Status', { verbose: true }, options);
      return W.criStatus(r);
    },
  };

  readonly introspection = {
    plugins: async (filters: string[] = []): Promise<T.Plugin[]> => {
      const r = await this.transport.unary<{ plugins: Rec[] }>('introspection.v1.Introspection', 'Plugins', {
        filters,
      });
      return r.plugins.map(W.plugin);
    },
    server: async (): Promise<T.ServerInfo> => {
      const r = await this.transport.unary<Rec>('introspection.v1.Introspection', 'Server', {});
      return {
        uuid: String(r['uuid'] ?? ''),
        pid: W.num(r['pid'] as string),
        pidns: W.num(r['pidns'] as string),
      };
    },
  };

  readonly namespaces = {
    list: async (): Promise<T.Namespace[]> => {
      const r = await this.transport.unary<{ namespaces: Rec[] }>('namespaces.v1.Namespaces', 'List', {});
      return r.namespaces.map((n) => ({
        name: String(n['name']),
        labels: (n['labels'] as Record<string, string>) ?? {},
      }));
    },
    /** containerd refuses (FailedPreconditionError) unless the namespace holds nothing. */
    delete: async (name: string): Promise<void> => {
      await this.transport.unary('namespaces.v1.Namespaces', 'Delete', { name });
    },
  };

  readonly containers = {
    /** Uses the ListStream RPC so a large namespace stays under the 16 MiB message limit. */
    list: async (namespace: string, filters: string[] = []): Promise<T.Container[]> => {
      try {
        const r = await this.transport.stream<{ container: Rec }>(
          'containers.v1.Containers',
          'ListStream',
          { filters },
          ns(namespace),
        );
        return r.map((m) => W.container(m.container));
      } catch (error) {
        if (!(error instanceof UnimplementedError)) throw error;
        const r = await this.transport.unary<{ containers: Rec[] }>(
          'containers.v1.Containers',
          'List',
          { filters },
          ns(namespace),
        );
        return r.containers.map(W.container);
      }
    },
    get: async (namespace: string, id: string): Promise<T.Container> => {
      const r = await this.transport.unary<{ container: Rec }>(
        'containers.v1.Containers',
        'Get',
        { id },
        ns(namespace),
      );
      return W.container(r.container);
    },
    /** Deletes the record only. containerd does not check for a task here: the caller must. */
    delete: async (namespace: string, id: string): Promise<void> => {
      await this.transport.unary('containers.v1.Containers', 'Delete', { id }, ns(namespace));
    },
  };

  readonly tasks = {
    list: async (namespace: string): Promise<T.Task[]> => {
      const r = await this.transport.unary<{ tasks: Rec[] }>('tasks.v1.Tasks', 'List', {}, ns(namespace));
      return r.tasks.map(W.task);
    },
    get: async (namespace: string, containerId: string): Promise<T.Task> => {
      const r = await this.transport.unary<{ process: Rec }>(
        'tasks.v1.Tasks',
        'Get',
        { container_id: containerId },
        ns(namespace),
      );
      return W.task(r.process);
    },
  };

  readonly snapshots = {
    /** containerd's Walk: records whose backend data is missing are silently left out. */
    list: async (
      namespace: string,
      snapshotter: string,
      filters: string[] = [],
    ): Promise<T.SnapshotInfo[]> => {
      const r = await this.transport.stream<{ info: Rec[] }>(
        'snapshots.v1.Snapshots',
        'List',
        { snapshotter, filters },
        ns(namespace),
      );
      return r.flatMap((m) => m.info.map(W.snapshotInfo));
    },
    stat: async (namespace: string, snapshotter: string, key: string): Promise<T.SnapshotInfo> => {
      const r = await this.transport.unary<{ info: Rec }>(
        'snapshots.v1.Snapshots',
        'Stat',
        { snapshotter, key },
        ns(namespace),
      );
      return W.snapshotInfo(r.info);
    },
    /** Removes the metadata record only; the backend data is left to containerd's GC. */
    remove: async (namespace: string, snapshotter: string, key: string): Promise<void> => {
      await this.transport.unary('snapshots.v1.Snapshots', 'Remove', { snapshotter, key }, ns(namespace));
    },
    usage: async (namespace: string, snapshotter: string, key: string): Promise<T.Usage> => {
      const r = await this.transport.unary<Rec>(
        'snapshots.v1.Snapshots',
        'Usage',
        { snapshotter, key },
        ns(namespace),
      );
      return { size: W.num(r['size'] as string), inodes: W.num(r['inodes'] as string) };
    },
    mounts: async (namespace: string, snapshotter: string, key: string): Promise<T.Mount[]> => {
      const r = await this.transport.unary<{ mounts: Rec[] }>(
        'snapshots.v1.Snapshots',
        'Mounts',
        { snapshotter, key },
        ns(namespace),
      );
      return r.mounts.map(W.mount);
    },
    /** An active snapshot on `parent`, writable; returns its mounts. */
    prepare: (
      namespace: string,
      snapshotter: string,
      key: string,
      parent = '',
      labels: Record<string, string> = {},
    ) => this.newSnapshot('Prepare', namespace, { snapshotter, key, parent, labels }),
    /** A read-only view on `parent`; returns its mounts. */
    view: (
      namespace: string,
      snapshotter: string,
      key: string,
      parent = '',
      labels: Record<string, string> = {},
    ) => this.newSnapshot('View', namespace, { snapshotter, key, parent, labels }),
    commit: async (
      namespace: string,
      snapshotter: string,
      name: string,
      key: string,
      labels: Record<string, string> = {},
    ): Promise<void> => {
      await this.transport.unary(
        'snapshots.v1.Snapshots',
        'Commit',
        { snapshotter, name, key, labels },
        ns(namespace),
      );
    },
  };

  private async newSnapshot(method: 'Prepare' | 'View', namespace: string, request: Rec): Promise<T.Mount[]> {
    const r = await this.transport.unary<{ mounts: Rec[] }>(
      'snapshots.v1.Snapshots',
      method,
      request,
      ns(namespace),
    );
    return r.mounts.map(W.mount);
  }

  readonly images = {
    list: async (namespace: string, filters: string[] = []): Promise<T.Image[]> => {
      const r = await this.transport.unary<{ images: Rec[] }>(
        'images.v1.Images',
        'List',
        { filters },
        ns(namespace),
      );
      return r.images.map(W.image);
    },
    get: async (namespace: string, name: string): Promise<T.Image> => {
      const r = await this.transport.unary<{ image: Rec }>(
        'images.v1.Images',
        'Get',
        { name },
        ns(namespace),
      );
      return W.image(r.image);
    },
    /** With `sync`, containerd returns only after the garbage collection the delete triggers. */
    delete: async (namespace: string, name: string, options: { sync?: boolean } = {}): Promise<void> => {
      await this.transport.unary(
        'images.v1.Images',
        'Delete',
        { name, sync: options.sync ?? false },
        ns(namespace),
      );
    },
  };

  readonly content = {
    info: async (namespace: string, digest: string): Promise<T.ContentInfo> => {
      const r = await this.transport.unary<{ info: Rec }>(
        'content.v1.Content',
        'Info',
        { digest },
        ns(namespace),
      );
      return W.contentInfo(r.info);
    },
    read: async (namespace: string, digest: string): Promise<Buffer> => {
      const r = await this.transport.stream<{ data: Buffer }>(
        'content.v1.Content',
        'Read',
        { digest, offset: 0, size: 0 },
        ns(namespace),
      );
      return Buffer.concat(r.map((m) => m.data));
    },
  };

  readonly leases = {
    create: async (namespace: string, id: string, labels: Record<string, string> = {}): Promise<void> => {
      await this.transport.unary('leases.v1.Leases', 'Create', { id, labels }, ns(namespace));
    },
    /** Makes the lease hold a resource: `type` is `snapshots/<snapshotter>`, `content` or `ingests`. */
    addResource: async (namespace: string, id: string, resource: T.LeaseResource): Promise<void> => {
      await this.transport.unary('leases.v1.Leases', 'AddResource', { id, resource }, ns(namespace));
    },
    list: async (namespace: string, filters: string[] = []): Promise<T.Lease[]> => {
      const r = await this.transport.unary<{ leases: Rec[] }>(
        'leases.v1.Leases',
        'List',
        { filters },
        ns(namespace),
      );
      return r.leases.map((l) => ({
        id: String(l['id']),
        createdAt: W.toDate(l['created_at'] as W.WireTimestamp),
        labels: (l['labels'] as Record<string, string>) ?? {},
      }));
    },
    listResources: async (namespace: string, id: string): Promise<T.LeaseResource[]> => {
      const r = await this.transport.unary<{ resources: Rec[] }>(
        'leases.v1.Leases',
        'ListResources',
        { id },
        ns(namespace),
      );
      return r.resources.map((x) => ({ id: String(x['id']), type: String(x['type']) }));
    },
    /** With `sync`, containerd returns only after the garbage collection the delete triggers. */
    delete: async (
      namespace: string,
      id: string,
      options: { sync?: boolean; timeoutMs?: number; signal?: AbortSignal } = {},
    ): Promise<void> => {
      await this.transport.unary(
        'leases.v1.Leases',
        'Delete',
        { id, sync: options.sync ?? false },
        { ...ns(namespace, options.timeoutMs), signal: options.signal },
      );
    },
  };
}

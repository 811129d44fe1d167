/**
 * Readiness of a proxy snapshotter as containerd sees it. After the snapshotter restarts, containerd's proxy
 * connection can sit in reconnect backoff for many seconds, and a pull in that window fails. A listing through
 * containerd asks the backend only about records that exist, so it proves nothing for an empty store; the
 * probe therefore also prepares and removes a throwaway snapshot, which always reaches the backend. On a
 * containerd without any namespace that prepare creates `default`; the probe deletes it again, and containerd
 * refuses that if anything else has meanwhile put something in it.
 */
import { ContainerdClient, NotFoundError } from '../../containerd/api/index.js';
import { HostError, errorMessage } from '../../errors/index.js';
import type { Host } from '../../host/index.js';
import type { Names } from '../../names/index.js';
import type { Logger } from '../../output/log.js';

export const READY_PROBE_PREFIX = 'kata-deploy-ready-probe-';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function probe(client: ContainerdClient, snapshotter: string): Promise<void> {
  const namespaces = (await client.namespaces.list()).map((n) => n.name);
  for (const ns of namespaces) await client.snapshots.list(ns, snapshotter);
  const ns = namespaces.includes('k8s.io') ? 'k8s.io' : (namespaces[0] ?? 'default');
  const key = `${READY_PROBE_PREFIX}${process.pid}-${Date.now()}`;
  try {
    await client.snapshots.prepare(ns, snapshotter, key);
    await client.snapshots.remove(ns, snapshotter, key).catch((error: unknown) => {
      if (!(error instanceof NotFoundError)) throw error;
    });
  } finally {
    if (namespaces.length === 0) await client.namespaces.delete(ns).catch(() => undefined);
  }
}

export async function waitSnapshotterReachable(
  ctx: { readonly host: Host; readonly names: Names; readonly log: Logger },
  snapshotter: string,
  timeoutMs: number,
): Promise<number> {
  const started = Date.now();
  const socket = ctx.host.path(ctx.names.containerd.socket);
  let last = 'no answer';
  while (Date.now() - started < timeoutMs) {
    const client = ContainerdClient.open({ socket, timeoutMs: 3_000 });
    try {
      await probe(client, snapshotter);
      const waited = Date.now() - started;
      ctx.log.info(`containerd reaches ${snapshotter} (after ${waited} ms)`);
      return waited;
    } catch (error) {
      last = errorMessage(error);
      ctx.log.debug(`containerd does not reach ${snapshotter} yet: ${last}`);
    } finally {
      client.close();
    }
    await sleep(250);
  }
  throw new HostError(
    `containerd could not reach snapshotter ${snapshotter} within ${timeoutMs} ms: ${last}`,
    {
      input: snapshotter,
      hint: `check that the ${snapshotter} service runs and that containerd's proxy_plugins address matches its socket`,
    },
  );
}

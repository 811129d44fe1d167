/**
 * What containerd and its CRI plugin say on containerd's socket, through the one containerd client. Every call
 * has a deadline; each answer is classified for the restart verdict (verdict.ts).
 */
import {
  ContainerdClient,
  UnavailableError,
  UnimplementedError,
  type Plugin,
} from '../../containerd/api/index.js';
import { parseContainerdVersion } from '../../containerd/config/version.js';
import type { Host } from '../../host/index.js';
import type { ContainerdAnswer, CriObservation } from './verdict.js';

const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One Version call. Nothing listening (no socket, connection refused) is `down`; anything else `failed`. */
export async function askContainerd(
  host: Host,
  socket: string,
  timeoutMs: number,
): Promise<ContainerdAnswer> {
  if (!(await host.lstat(socket))?.isSocket()) return { state: 'down', reason: `no socket at ${socket}` };
  const client = ContainerdClient.open({ socket: host.path(socket), timeoutMs });
  try {
    const { version } = await client.version();
    if (parseContainerdVersion(version) === undefined)
      return {
        state: 'failed',
        reason: `${socket} answers, but not as containerd (version "${version.slice(0, 80)}")`,
      };
    return { state: 'answers', version };
  } catch (error) {
    const reason = `${socket}: ${reasonOf(error)}`;
    return error instanceof UnavailableError ? { state: 'down', reason } : { state: 'failed', reason };
  } finally {
    client.close();
  }
}

/**
 * CRI's runtime status, retried until `deadline` while the call itself fails. An Unimplemented answer is
 * final: the CRI service is not registered in this containerd (disabled, or the plugin failed to load), and
 * only another restart can change that.
 */
export async function askCri(host: Host, socket: string, deadline: number): Promise<CriObservation> {
  const client = ContainerdClient.open({ socket: host.path(socket) });
  try {
    for (;;) {
      const timeoutMs = Math.max(1_000, Math.min(10_000, deadline - Date.now()));
      try {
        const status = await client.cri.status({ timeoutMs });
        return { state: 'serves', handlers: status.handlers };
      } catch (error) {
        if (error instanceof UnimplementedError)
          return { state: 'not-serving', reason: `CRI's RuntimeService is not registered: ${error.message}` };
        if (Date.now() >= deadline) return { state: 'failed', reason: reasonOf(error) };
      }
      await sleep(250);
    }
  } finally {
    client.close();
  }
}

/** The CRI plugins containerd 1.x and 2.x load, by `type.id`. */
const CRI_PLUGINS = new Set([
  'io.containerd.grpc.v1.cri',
  'io.containerd.cri.v1.runtime',
  'io.containerd.cri.v1.images',
]);

/** containerd's own words for why its CRI plugins did not load (introspection's init errors); [] if none. */
export async function criLoadErrors(host: Host, socket: string): Promise<string[]> {
  const client = ContainerdClient.open({ socket: host.path(socket), timeoutMs: 5_000 });
  try {
    const plugins: Plugin[] = await client.introspection.plugins();
    const failed = plugins.flatMap((p) =>
      CRI_PLUGINS.has(`${p.type}.${p.id}`) && p.initError !== undefined
        ? [{ plugin: `${p.type}.${p.id}`, message: p.initError.message }]
        : [],
    );
    // A plugin that failed because its dependency did repeats the dependency's words: name the cause once.
    return failed
      .filter((f) => !failed.some((o) => o !== f && f.message.includes(o.message)))
      .map((f) => `${f.plugin}: ${f.message}`);
  } catch {
    return [];
  } finally {
    client.close();
  }
}

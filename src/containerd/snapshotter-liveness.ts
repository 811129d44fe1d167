/**
 * Does the snapshotter answer? One probe on its own socket, three answers:
 * - `answers`: its snapshot listing answered (an empty store answers too);
 * - `stopped`: no socket file, or nothing listens on it (connection refused): positively not running;
 * - `unresponsive`: it accepted the connection but did not answer in time, or answered with an error.
 * Only `stopped` counts as stopped. A slow snapshotter is still a running one, so a timeout never reads as
 * "stopped" — callers that would wipe on "stopped" keep the data instead.
 */
import { lstat } from 'node:fs/promises';
import { connect } from 'node:net';
import { NotFoundError } from './api/index.js';
import { Transport } from './api/transport.js';
import { errnoCode, errorMessage } from '../errors/index.js';

export type SnapshotterSocketState =
  | { readonly state: 'answers'; readonly keys: ReadonlySet<string> }
  | { readonly state: 'stopped'; readonly detail: string }
  | { readonly state: 'unresponsive'; readonly detail: string };

/** Whether anything accepts connections on the unix socket. */
function listens(socket: string, timeoutMs: number): Promise<'yes' | 'refused' | 'timeout' | string> {
  return new Promise((resolve) => {
    const conn = connect({ path: socket });
    const timer = setTimeout(() => {
      conn.destroy();
      resolve('timeout');
    }, timeoutMs);
    conn.once('connect', () => {
      clearTimeout(timer);
      conn.destroy();
      resolve('yes');
    });
    conn.once('error', (error) => {
      clearTimeout(timer);
      const code = errnoCode(error);
      resolve(code === 'ECONNREFUSED' || code === 'ENOENT' ? 'refused' : `${code ?? ''} ${error.message}`);
    });
  });
}

/**
 * The snapshotter's backend keys (`<ns>/<seq>/<key>`) from its own socket. A store that has never been
 * written to has no snapshots bucket, and the snapshotter itself says so ("bucket does not exist"): that is
 * its answer that it holds nothing. Any other error is thrown.
 */
export async function listBackendKeys(socket: string, timeoutMs: number): Promise<Set<string>> {
  const transport = new Transport(socket, { stream: timeoutMs, call: timeoutMs });
  try {
    const pages = await transport.stream<{ info: { name: string }[] }>('snapshots.v1.Snapshots', 'List', {
      snapshotter: '',
      filters: [],
    });
    return new Set(pages.flatMap((p) => p.info.map((i) => i.name)));
  } catch (error) {
    if (error instanceof NotFoundError && /bucket does not exist/.test(error.message)) return new Set();
    throw error;
  } finally {
    transport.close();
  }
}

export async function probeSnapshotterSocket(
  socket: string,
  timeoutMs = 5_000,
): Promise<SnapshotterSocketState> {
  try {
    const st = await lstat(socket);
    if (!st.isSocket()) return { state: 'unresponsive', detail: `${socket} exists but is not a socket` };
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return { state: 'stopped', detail: `no socket at ${socket}` };
    return { state: 'unresponsive', detail: `cannot look at ${socket}: ${errorMessage(error)}` };
  }
  const listening = await listens(socket, timeoutMs);
  if (listening === 'refused') return { state: 'stopped', detail: `nothing listens on ${socket}` };
  if (listening === 'timeout')
    return { state: 'unresponsive', detail: `${socket} did not accept a connection within ${timeoutMs} ms` };
  if (listening !== 'yes') return { state: 'unresponsive', detail: `${socket}: ${listening.trim()}` };
  try {
    return { state: 'answers', keys: await listBackendKeys(socket, timeoutMs) };
  } catch (error) {
    return {
      state: 'unresponsive',
      detail: `${socket} accepts connections but its listing failed: ${errorMessage(error)}`,
    };
  }
}

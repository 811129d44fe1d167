/**
 * What lifecycle tests compare and ask on a node, whichever service manager runs it: the node's tree (every
 * entry's type, mode and content hash, minus what the daemons themselves change) and CRI's runtime status.
 */
import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ContainerdClient, UnimplementedError, type CriStatus } from '../../src/containerd/api/index.js';

/** Every entry below `root` (relative paths) but those in `volatile` (relative paths, whole subtrees). */
export async function snapshotTree(
  root: string,
  volatile: ReadonlySet<string>,
  rel = '',
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(join(root, rel))).sort()) {
    const r = rel === '' ? name : `${rel}/${name}`;
    if (volatile.has(r)) continue;
    const p = join(root, r);
    const st = await lstat(p);
    if (st.isDirectory()) {
      out[r] = `dir ${(st.mode & 0o7777).toString(8)}`;
      Object.assign(out, await snapshotTree(root, volatile, r));
    } else if (st.isSymbolicLink()) out[r] = `link ${await readlink(p)}`;
    else if (st.isSocket()) out[r] = 'socket';
    else
      out[r] = `file ${(st.mode & 0o7777).toString(8)} ${createHash('sha256')
        .update(await readFile(p))
        .digest('hex')}`;
  }
  return out;
}

/** CRI's runtime status on the socket; undefined when the CRI plugin does not serve there. */
export async function criStatus(socket: string): Promise<CriStatus | undefined> {
  const client = ContainerdClient.open({ socket, timeoutMs: 10_000 });
  try {
    return await client.cri.status();
  } catch (error) {
    if (error instanceof UnimplementedError) return undefined;
    throw error;
  } finally {
    client.close();
  }
}

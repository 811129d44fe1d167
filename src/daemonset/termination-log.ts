/**
 * A failure's last words for `kubectl describe pod`: the kubelet shows what the container wrote to its
 * terminationMessagePath (default /dev/termination-log, a file the kubelet mounts; at most 4096 bytes). The file
 * must exist: outside a pod nothing is created (a regular file in /dev would be litter).
 */
import { open } from 'node:fs/promises';
import { errnoCode } from '../errors/index.js';

const LIMIT = 4096;

export async function writeTerminationLog(path: string, text: string): Promise<'written' | 'absent'> {
  let body = text.endsWith('\n') ? text : `${text}\n`;
  if (Buffer.byteLength(body) > LIMIT) {
    // Cut whole characters, not bytes: the kubelet shows the file as UTF-8.
    const chars = [...body];
    while (Buffer.byteLength(chars.join('')) > LIMIT - 4)
      chars.length -= Math.max(1, Math.floor(chars.length / 50));
    body = `${chars.join('')}…\n`;
  }
  const bytes = Buffer.from(body);
  try {
    const file = await open(path, 'r+');
    try {
      await file.truncate(0);
      await file.write(bytes, 0, bytes.length, 0);
    } finally {
      await file.close();
    }
    return 'written';
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return 'absent';
    throw error;
  }
}

/**
 * The sandbox's Kata payload, assembled at run time: the synthetic payload of test/fixtures/payload (upstream's
 * opt/kata layout, plus nydus-snapshotter templates when present) and, in its `nydus-snapshotter/`, the real
 * `containerd-nydus-grpc` and `nydus-overlayfs` from Debian, copied from the provision cache (never committed).
 */
import { chmod, copyFile, cp, mkdir, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { nydusBinaries } from '../test/bed/index.js';

export const FIXTURE_PAYLOAD = resolve(import.meta.dirname, '../test/fixtures/payload');

export interface Payload {
  readonly dir: string;
  /** What `nydus-snapshotter/` holds, for the report. */
  readonly nydusFiles: readonly string[];
}

export async function assemblePayload(dir: string): Promise<Payload> {
  await cp(FIXTURE_PAYLOAD, dir, { recursive: true, preserveTimestamps: true });
  const nydusDir = join(dir, 'nydus-snapshotter');
  await mkdir(nydusDir, { recursive: true });
  const bins = nydusBinaries();
  for (const [name, from] of [
    ['containerd-nydus-grpc', bins.grpc],
    ['nydus-overlayfs', bins.overlayfs],
  ] as const) {
    await copyFile(from, join(nydusDir, name));
    await chmod(join(nydusDir, name), 0o755);
  }
  return { dir, nydusFiles: (await readdir(nydusDir)).sort() };
}

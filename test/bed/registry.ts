// A real OCI registry (Debian's docker-registry) on 127.0.0.1, fed over its HTTP API from generated images.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { onExitCleanup } from './exit-cleanup.js';
import { MEDIA_TYPES, type GeneratedImage } from './image.js';
import { Service, tailFile } from './processes.js';
import { readTar } from './tar.js';
import { waitUntil } from './wait.js';

export interface Registry {
  /** 127.0.0.1:PORT */
  address: string;
  /** Uploads the image's blobs and manifest; returns the pullable reference ADDRESS/REPO:TAG. */
  push(image: GeneratedImage, repoTag: string): Promise<string>;
  stop(): Promise<void>;
}

const REGISTRY_BINARY = '/usr/bin/docker-registry';
const START_TIMEOUT_MS = 15_000;
const HTTP_TIMEOUT_MS = 30_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function registryConfig(storage: string, address: string): string {
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${JSON.stringify(storage)}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${address}`,
    '',
  ].join('\n');
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    return response.status === 200;
  } catch {
    return false;
  }
}

/** Splits 'repo/name:tag' (tag defaults to latest). */
export function splitRepoTag(repoTag: string): { repo: string; tag: string } {
  const colon = repoTag.lastIndexOf(':');
  if (colon > repoTag.lastIndexOf('/') && colon !== -1) {
    return { repo: repoTag.slice(0, colon), tag: repoTag.slice(colon + 1) };
  }
  return { repo: repoTag, tag: 'latest' };
}

async function expectStatus(response: Response, ok: number[], what: string): Promise<void> {
  if (!ok.includes(response.status)) {
    const body = await response.text().catch(() => '');
    throw new Error(`registry ${what}: HTTP ${response.status} ${body.slice(0, 300)}`);
  }
}

async function pushBlob(base: string, repo: string, digest: string, bytes: Buffer): Promise<void> {
  const head = await fetch(`${base}/v2/${repo}/blobs/${digest}`, {
    method: 'HEAD',
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  });
  if (head.status === 200) return;
  const started = await fetch(`${base}/v2/${repo}/blobs/uploads/`, {
    method: 'POST',
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  });
  await expectStatus(started, [202], `starting upload of ${digest} to ${repo}`);
  const location = started.headers.get('location');
  if (!location) throw new Error(`registry gave no upload location for ${digest}`);
  const url = new URL(location, base);
  url.searchParams.set('digest', digest);
  const put = await fetch(url, {
    method: 'PUT',
    body: bytes,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) },
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  });
  await expectStatus(put, [201], `uploading ${digest} to ${repo}`);
}

async function pushImage(base: string, image: GeneratedImage, repoTag: string): Promise<void> {
  const { repo, tag } = splitRepoTag(repoTag);
  const blobs = new Map<string, Buffer>();
  for (const entry of readTar(await readFile(image.tarPath))) {
    const match = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(entry.name);
    if (entry.type === 'file' && match) blobs.set(`sha256:${match[1]}`, entry.content);
  }
  const manifest = blobs.get(image.manifestDigest);
  if (!manifest) throw new Error(`${image.tarPath} has no manifest blob ${image.manifestDigest}`);
  for (const [digest, bytes] of blobs) {
    if (digest !== image.manifestDigest) await pushBlob(base, repo, digest, bytes);
  }
  const put = await fetch(`${base}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT',
    body: manifest,
    headers: { 'content-type': MEDIA_TYPES.manifest },
    signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
  });
  await expectStatus(put, [201], `putting manifest ${repo}:${tag}`);
}

async function launch(root: string, logPath: string): Promise<{ service: Service; address: string }> {
  const configPath = path.join(root, 'registry.yml');
  // The free port can be taken between probing and binding (other tests run beside us): retry then.
  for (let attempt = 1; ; attempt++) {
    const address = `127.0.0.1:${await freePort()}`;
    await writeFile(configPath, registryConfig(path.join(root, 'storage'), address));
    const service = new Service({
      name: 'docker-registry',
      file: REGISTRY_BINARY,
      args: ['serve', configPath],
      logPath,
    });
    service.start();
    let up = false;
    try {
      await waitUntil(async () => !service.running() || (up = await answers(`http://${address}/v2/`)), {
        timeoutMs: START_TIMEOUT_MS,
        intervalMs: 50,
        describe: () => `docker-registry did not answer on ${address} within ${START_TIMEOUT_MS} ms`,
      });
    } catch (error) {
      await service.stop();
      throw new Error(`${String(error)}; log ${logPath}:\n${await tailFile(logPath)}`, { cause: error });
    }
    if (up && service.running()) return { service, address };
    await service.stop();
    if (attempt >= 3) {
      const why = service.startError?.message ?? 'it exited';
      throw new Error(
        `docker-registry could not be started (${why}); log ${logPath}:\n${await tailFile(logPath)}`,
      );
    }
  }
}

/** Starts docker-registry on 127.0.0.1 with storage under root (created if missing; stop() leaves it). */
export async function startRegistry(opts: { root: string }): Promise<Registry> {
  const root = path.resolve(opts.root);
  await mkdir(path.join(root, 'storage'), { recursive: true });
  const { service, address } = await launch(root, path.join(root, 'registry.log'));
  const unregister = onExitCleanup(() => service.killSync());
  const base = `http://${address}`;
  return {
    address,
    async push(image, repoTag) {
      await pushImage(base, image, repoTag);
      const { repo, tag } = splitRepoTag(repoTag);
      return `${address}/${repo}:${tag}`;
    },
    async stop() {
      await service.stop();
      unregister();
    },
  };
}

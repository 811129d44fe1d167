/**
 * A Kata payload in upstream's shipping format, made by the tests from the synthetic tree in
 * test/fixtures/payload: `shim-components.json`, `tarballs/kata-static-<component>.tar.zst` (tar-stream packs,
 * zstd-napi compresses) and `versions.yaml`, optionally `tarballs/SHA256SUMS`. Nothing binary is committed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pack, type Pack } from 'tar-stream';
import { CompressStream } from 'zstd-napi';
import { walk } from '../../src/host/fs.js';

export const FIXTURE_PAYLOAD = resolve(import.meta.dirname, '../fixtures/payload');

export interface PayloadOptions {
  /** Where the payload goes (created; the caller owns and removes it). */
  readonly dir: string;
  /** Ship `tarballs/SHA256SUMS`. @default true */
  readonly sha256sums?: boolean;
  /** zstd content checksums in every frame. @default true */
  readonly checksum?: boolean;
  /** Add the devkit extension component (`rootfs-image-devkit-extension`). @default false */
  readonly devkit?: boolean;
  /** Bytes of (compressible) data to give the guest image, so extraction has something to do. @default 0 */
  readonly imageBytes?: number;
}

export interface ComponentPayload {
  readonly dir: string;
  /** Component → the payload paths (relative to opt/kata) it holds. */
  readonly components: ReadonlyMap<string, readonly string[]>;
  readonly shims: Readonly<Record<string, { x86_64: string[] }>>;
  /** Sizes of the tarballs, compressed and as tar. */
  readonly bytes: { readonly compressed: number; readonly uncompressed: number };
}

/** Which component ships a payload file, after upstream's split (shim-v2, hypervisors, kernel, images). */
export function componentOf(rel: string): string | undefined {
  if (rel === 'versions.yaml') return undefined; // shipped beside the tarballs
  if (rel.startsWith('runtime-rs/') || rel.startsWith('share/defaults/kata-containers/runtime-rs/'))
    return 'shim-v2-rs';
  if (
    rel.startsWith('share/defaults/kata-containers/') ||
    /^bin\/(containerd-shim-kata-v2|kata-runtime)$/.test(rel)
  )
    return 'shim-v2-go';
  if (rel.startsWith('bin/qemu-system-') || rel.startsWith('share/kata-qemu')) return 'qemu';
  if (rel === 'bin/cloud-hypervisor') return 'cloud-hypervisor';
  if (rel === 'bin/firecracker' || rel === 'bin/jailer') return 'firecracker';
  if (rel === 'bin/kata-ctl') return 'kata-ctl';
  if (rel.startsWith('share/kata-containers/vmlinu')) return 'kernel';
  if (rel.startsWith('share/kata-containers/')) return 'rootfs-image';
  if (rel.startsWith('share/ovmf/')) return 'ovmf';
  return 'misc';
}

function componentsFor(shim: string): string[] {
  const runtime = shim.endsWith('-runtime-rs') || shim === 'dragonball' ? 'shim-v2-rs' : 'shim-v2-go';
  const vmm = shim.startsWith('qemu')
    ? ['qemu']
    : shim.startsWith('clh')
      ? ['cloud-hypervisor']
      : shim === 'fc'
        ? ['firecracker']
        : [];
  const firmware = /snp|tdx|nvidia/.test(shim) ? ['ovmf'] : [];
  return [runtime, ...vmm, ...firmware, 'kernel', 'rootfs-image', 'misc'];
}

function addEntry(tar: Pack, header: Parameters<Pack['entry']>[0], data?: Buffer): Promise<void> {
  return new Promise((done, fail) => {
    const cb = (err?: Error | null) => (err ? fail(err) : done());
    if (data === undefined) tar.entry(header, cb).end(() => undefined);
    else tar.entry(header, data, cb);
  });
}

async function writeTarball(
  path: string,
  members: readonly {
    rel: string;
    type: 'file' | 'dir' | 'symlink' | 'link';
    mode: number;
    data?: Buffer;
    linkname?: string;
  }[],
  prefix: string,
  checksum: boolean,
): Promise<{ compressed: number; uncompressed: number }> {
  const tar = pack();
  let uncompressed = 0;
  const counting = new CompressStream({ compressionLevel: 3, checksumFlag: checksum });
  tar.on('data', (c: unknown) => (uncompressed += (c as Buffer).length));
  const done = pipeline(tar, counting, createWriteStream(path));
  await addEntry(tar, { name: `${prefix}opt/kata/`, type: 'directory', mode: 0o755 });
  for (const m of members) {
    const name = `${prefix}opt/kata/${m.rel}${m.type === 'dir' ? '/' : ''}`;
    const type = m.type === 'dir' ? 'directory' : m.type;
    const linkname = m.type === 'link' ? `${prefix}opt/kata/${m.linkname}` : m.linkname;
    await addEntry(
      tar,
      { name, type, mode: m.mode, ...(linkname === undefined ? {} : { linkname }) },
      m.data,
    );
  }
  tar.finalize();
  await done;
  const compressed = (await readFile(path)).length;
  return { compressed, uncompressed };
}

/**
 * Data that compresses about as well as a guest image does (zstd -3 makes it roughly a third): each 4 KiB block
 * is 1 KiB of random bytes followed by text that repeats.
 */
function filler(bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  const text = Buffer.from('kata-containers guest image block '.repeat(100));
  for (let at = 0; at < bytes; at += 4096) {
    randomBytes(Math.min(1024, bytes - at)).copy(out, at);
    text.copy(out, at + 1024, 0, Math.max(0, Math.min(3072, bytes - at - 1024)));
  }
  return out;
}

export async function makeComponentPayload(o: PayloadOptions): Promise<ComponentPayload> {
  const root = join(FIXTURE_PAYLOAD, 'opt/kata');
  const byComponent = new Map<
    string,
    {
      rel: string;
      type: 'file' | 'dir' | 'symlink' | 'link';
      mode: number;
      data?: Buffer;
      linkname?: string;
    }[]
  >();
  const add = (c: string, m: typeof byComponent extends Map<string, (infer T)[]> ? T : never) =>
    byComponent.set(c, [...(byComponent.get(c) ?? []), m]);
  const shims: Record<string, { x86_64: string[] }> = {};
  for (const e of await walk(root)) {
    const component = componentOf(e.rel);
    if (component === undefined) continue;
    if (e.type === 'dir') continue; // each tarball lists the directories of its own files below
    let data: Buffer | undefined = e.type === 'file' ? await readFile(join(root, e.rel)) : undefined;
    if (e.rel === 'share/kata-containers/kata-containers.img' && (o.imageBytes ?? 0) > 0)
      data = filler(o.imageBytes!);
    add(component, {
      rel: e.rel,
      type: e.type === 'file' ? 'file' : 'symlink',
      mode: e.mode,
      data,
      linkname: e.linkTarget,
    });
    const shim = /^share\/defaults\/kata-containers\/(?:runtime-rs\/)?configuration-(.+)\.toml$/.exec(
      e.rel,
    )?.[1];
    if (shim !== undefined) shims[shim] = { x86_64: componentsFor(shim) };
  }
  // What upstream's tarballs hold besides plain files: an absolute symlink into /opt/kata and a hard link.
  add('kernel', {
    rel: 'share/kata-containers/vmlinux-kata.container',
    type: 'symlink',
    mode: 0o777,
    linkname: '/opt/kata/share/kata-containers/vmlinux.container',
  });
  add('rootfs-image', {
    rel: 'share/kata-containers/kata-containers-alias.img',
    type: 'link',
    mode: 0o644,
    linkname: 'share/kata-containers/kata-containers-initrd.img',
  });
  if (o.devkit) {
    add('rootfs-image-devkit-extension', {
      rel: 'share/kata-containers/kata-containers-devkit-extension.img',
      type: 'file',
      mode: 0o644,
      data: Buffer.from('devkit extension image (test payload)\n'),
    });
    add('rootfs-image-devkit-extension', {
      rel: 'share/kata-containers/root_hash_devkit-extension.txt',
      type: 'file',
      mode: 0o644,
      data: Buffer.from(
        '\nroot_hash=abc123,salt=00,data_blocks=1,data_block_size=4096,hash_block_size=4096\n',
      ),
    });
  }
  await mkdir(join(o.dir, 'tarballs'), { recursive: true });
  const sums: string[] = [];
  let compressed = 0;
  let uncompressed = 0;
  const components = new Map<string, string[]>();
  for (const [c, members] of [...byComponent].sort(([a], [b]) => a.localeCompare(b))) {
    const dirs = new Set<string>();
    for (const m of members)
      for (
        let d = m.rel.slice(0, m.rel.lastIndexOf('/'));
        d !== '';
        d = d.slice(0, Math.max(0, d.lastIndexOf('/')))
      )
        dirs.add(d);
    const ordered = [
      ...[...dirs].sort().map((rel) => ({ rel, type: 'dir' as const, mode: 0o755 })),
      ...members.filter((m) => m.type !== 'link'),
      ...members.filter((m) => m.type === 'link'),
    ];
    const file = join(o.dir, 'tarballs', `kata-static-${c}.tar.zst`);
    // One tarball's members read `./opt/kata/…`, as `tar -C dir .` writes them; the others `opt/kata/…`.
    const size = await writeTarball(file, ordered, c === 'kernel' ? './' : '', o.checksum ?? true);
    compressed += size.compressed;
    uncompressed += size.uncompressed;
    sums.push(
      `${createHash('sha256')
        .update(await readFile(file))
        .digest('hex')}  kata-static-${c}.tar.zst`,
    );
    components.set(
      c,
      members.map((m) => m.rel),
    );
  }
  for (const s of Object.values(shims)) s.x86_64 = s.x86_64.filter((c) => components.has(c));
  await writeFile(
    join(o.dir, 'shim-components.json'),
    `${JSON.stringify({ _comment: ['made by the kata-deploy tests'], shims, requiredComponents: { x86_64: [] } }, null, 2)}\n`,
  );
  await writeFile(join(o.dir, 'versions.yaml'), await readFile(join(root, 'versions.yaml')));
  if (o.sha256sums ?? true) await writeFile(join(o.dir, 'tarballs/SHA256SUMS'), `${sums.join('\n')}\n`);
  return { dir: o.dir, components, shims, bytes: { compressed, uncompressed } };
}

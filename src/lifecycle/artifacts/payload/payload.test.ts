import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import fc from 'fast-check';
import { pack } from 'tar-stream';
import { compress, CompressStream } from 'zstd-napi';
import { UsageError } from '../../../errors/index.js';
import { createHost } from '../../../host/index.js';
import { deriveNames } from '../../../names/index.js';
import { loadSettings } from '../../../settings/index.js';
import { makeComponentPayload, FIXTURE_PAYLOAD } from '../../../../test/support/component-payload.js';
import { componentPayloadFacts } from './facts.js';
import { chooseComponents, parseSha256Sums, parseShimComponents } from './manifest.js';
import { extractFiles } from './extract.js';
import { frameChecksums } from './zstd-frames.js';
import { forEachMember } from './archive.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kd-payload-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const settingsFor = (artifactsDir: string, env: Record<string, string> = {}) =>
  loadSettings({
    env: { NODE_NAME: 'n', SHIMS_X86_64: 'qemu qemu-runtime-rs clh', ...env },
    flags: { artifactsDir },
    arch: 'x86_64',
  });

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

async function refusal(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => e instanceof UsageError && pattern.test(e.message));
}

describe('the component payload (shim-components.json and .tar.zst tarballs)', () => {
  it('indexes the tarballs the shims need, files hashed, only those components', async () => {
    const out = join(dir, 'p1');
    await makeComponentPayload({ dir: out });
    const settings = settingsFor(out);
    const names = deriveNames(settings, 'containerd');
    const wanted = ['share/defaults/kata-containers/configuration-qemu.toml'];
    const facts = await componentPayloadFacts(settings, names, wanted);
    const shim = facts.entries.get('bin/containerd-shim-kata-v2');
    assert.equal(
      shim?.sha256,
      sha(await readFile(join(FIXTURE_PAYLOAD, 'opt/kata/bin/containerd-shim-kata-v2'))),
    );
    assert.match(shim?.archive?.path ?? '', /kata-static-shim-v2-go\.tar\.zst$/);
    assert.ok(facts.entries.has('runtime-rs/bin/containerd-shim-kata-v2'));
    assert.ok(facts.entries.has('bin/cloud-hypervisor'));
    assert.ok(!facts.entries.has('bin/firecracker'), 'fc is not enabled: its tarball is not read');
    assert.ok(!facts.entries.has('bin/kata-ctl'), 'kata-ctl only with DEBUG');
    assert.equal(
      facts.texts.get(wanted[0]!),
      await readFile(join(FIXTURE_PAYLOAD, 'opt/kata', wanted[0]!), 'utf8'),
    );
    assert.equal(facts.entries.get('share/kata-containers/vmlinux-kata.container')?.type, 'symlink');
    const alias = facts.entries.get('share/kata-containers/kata-containers-alias.img');
    assert.equal(
      alias?.sha256,
      facts.entries.get('share/kata-containers/kata-containers-initrd.img')?.sha256,
    );
    assert.ok(facts.entries.has('versions.yaml'), 'versions.yaml beside the tarballs');
    for (const a of facts.archives.values()) assert.match(a.sha256 ?? '', /^[0-9a-f]{64}$/);
    const debug = await componentPayloadFacts(settingsFor(out, { DEBUG: 'true' }), names, []);
    assert.ok(debug.entries.has('bin/kata-ctl'), 'kata-ctl with DEBUG');
  });

  it('refuses a tarball that does not match SHA256SUMS, or is not listed there', async () => {
    const out = join(dir, 'p2');
    await makeComponentPayload({ dir: out });
    const settings = settingsFor(out);
    const names = deriveNames(settings, 'containerd');
    const sums = join(out, 'tarballs/SHA256SUMS');
    const text = await readFile(sums, 'utf8');
    await writeFile(sums, text.replace(/^[0-9a-f]{64}(?= {2}kata-static-kernel)/m, '0'.repeat(64)));
    await refusal(
      componentPayloadFacts(settings, names, []),
      /kata-static-kernel\.tar\.zst has sha256 [0-9a-f]+, but .*SHA256SUMS lists 0{64}/,
    );
    await writeFile(
      sums,
      text
        .split('\n')
        .filter((l) => !l.includes('kernel'))
        .join('\n'),
    );
    await refusal(
      componentPayloadFacts(settings, names, []),
      /kata-static-kernel\.tar\.zst is not listed in/,
    );
  });

  it('without SHA256SUMS, needs zstd checksums in every frame; a damaged tarball is refused', async () => {
    const unchecked = join(dir, 'p3');
    await makeComponentPayload({ dir: unchecked, sha256sums: false, checksum: false });
    const s3 = settingsFor(unchecked);
    await refusal(
      componentPayloadFacts(s3, deriveNames(s3, 'containerd'), []),
      /zstd frame 1 carries no content checksum, and the payload has no tarballs\/SHA256SUMS/,
    );
    const checked = join(dir, 'p4');
    await makeComponentPayload({ dir: checked, sha256sums: false });
    const s4 = settingsFor(checked);
    const facts = await componentPayloadFacts(s4, deriveNames(s4, 'containerd'), []);
    for (const a of facts.archives.values()) assert.equal(a.sha256, undefined);
    // A flipped byte inside the compressed data: libzstd's checksum (or the block decoder) catches it.
    const kernel = join(checked, 'tarballs/kata-static-kernel.tar.zst');
    const bytes = await readFile(kernel);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x55;
    await writeFile(kernel, bytes);
    await refusal(
      componentPayloadFacts(s4, deriveNames(s4, 'containerd'), []),
      /kata-static-kernel\.tar\.zst: cannot read it/,
    );
  });

  it('refuses a component the manifest names and the payload lacks, and a shim it has no entry for', async () => {
    const out = join(dir, 'p5');
    await makeComponentPayload({ dir: out });
    await rm(join(out, 'tarballs/kata-static-qemu.tar.zst'));
    const settings = settingsFor(out);
    await refusal(
      componentPayloadFacts(settings, deriveNames(settings, 'containerd'), []),
      /needs component qemu, but .*kata-static-qemu\.tar\.zst does not exist/,
    );
    const m = parseShimComponents('{"shims":{"qemu":{"aarch64":["a"]}}}', 'm.json');
    assert.throws(
      () => chooseComponents(m, 'm.json', { bases: ['qemu'], arch: 'x86_64', debug: false, devkit: false }),
      /m\.json lists no component for shim qemu on x86_64/,
    );
  });

  it('refuses a member that leads out of opt/kata', async () => {
    const tar = pack();
    const file = join(dir, 'evil.tar.zst');
    const done = pipeline(tar, new CompressStream({ checksumFlag: true }), createWriteStream(file));
    tar.entry({ name: 'opt/kata/../../etc/passwd' }, 'x');
    tar.finalize();
    await done;
    await refusal(
      forEachMember(file, async () => {}),
      /leads out of opt\/kata/,
    );
  });

  it('extracts only the planned members, each checked against its hash before it replaces anything', async () => {
    const out = join(dir, 'p6');
    await makeComponentPayload({ dir: out });
    const root = join(dir, 'root6');
    await mkdir(root);
    const host = createHost({ root, serviceManager: 'process' });
    const archive = join(out, 'tarballs/kata-static-shim-v2-go.tar.zst');
    const content = await readFile(join(FIXTURE_PAYLOAD, 'opt/kata/bin/containerd-shim-kata-v2'));
    const file = {
      member: 'opt/kata/bin/containerd-shim-kata-v2',
      path: '/opt/kata/bin/containerd-shim-kata-v2',
      mode: 0o755,
    };
    await extractFiles(
      { kind: 'extractFiles', archive, archiveSha256: undefined, files: [{ ...file, sha256: sha(content) }] },
      host,
    );
    assert.deepEqual(await readFile(join(root, file.path)), content);
    await writeFile(join(root, file.path), 'old');
    await assert.rejects(
      extractFiles(
        {
          kind: 'extractFiles',
          archive,
          archiveSha256: undefined,
          files: [{ ...file, sha256: '0'.repeat(64) }],
        },
        host,
      ),
      /expected 0{64}/,
    );
    assert.equal(await readFile(join(root, file.path), 'utf8'), 'old', 'nothing replaced');
    await assert.rejects(
      extractFiles(
        {
          kind: 'extractFiles',
          archive,
          archiveSha256: '1'.repeat(64),
          files: [{ ...file, sha256: sha(content) }],
        },
        host,
      ),
      /has sha256 [0-9a-f]+, not 1{64} as planned/,
    );
  });
});

describe('SHA256SUMS', () => {
  it('reads sha256sum’s format and names a bad line', () => {
    const h = 'a'.repeat(64);
    assert.deepEqual(
      [...parseSha256Sums(`${h}  x.tar.zst\n${h} *y.tar.zst\n\n`, 'S')],
      [
        ['x.tar.zst', h],
        ['y.tar.zst', h],
      ],
    );
    assert.throws(
      () => parseSha256Sums(`${h}  ../x\n`, 'S'),
      /S line 1: .* expected "<sha256> {2}<tarball name>"/,
    );
  });
});

describe('zstd frame checksums from the headers alone', () => {
  const read = (buf: Buffer) => async (offset: number, length: number) =>
    buf.subarray(offset, offset + length);
  it('agrees with how each frame was written, over random contents and frame sequences (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ data: fc.uint8Array({ maxLength: 3000 }), check: fc.boolean() }), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.boolean(),
        async (frames, skippable) => {
          const parts = frames.map((f) => compressFrame(Buffer.from(f.data), f.check));
          if (skippable)
            parts.unshift(
              Buffer.concat([Buffer.from([0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0]), Buffer.from('abc')]),
            );
          const buf = Buffer.concat(parts);
          const result = await frameChecksums(read(buf), buf.length);
          const firstMissing = frames.findIndex((f) => !f.check);
          if (firstMissing === -1) assert.deepEqual(result, { kind: 'all', frames: frames.length });
          else assert.deepEqual(result, { kind: 'missing', frame: firstMissing + 1 });
        },
      ),
      { numRuns: 60 },
    );
  });
  it('calls a truncated or foreign file malformed', async () => {
    const frame = compressFrame(Buffer.from('hello'.repeat(100)), true);
    assert.equal(
      (await frameChecksums(read(frame.subarray(0, frame.length - 6)), frame.length - 6)).kind,
      'malformed',
    );
    const tarGz = Buffer.from([0x1f, 0x8b, 8, 0]);
    assert.equal((await frameChecksums(read(tarGz), 4)).kind, 'malformed');
  });
});

function compressFrame(data: Buffer, checksum: boolean): Buffer {
  return compress(data, { checksumFlag: checksum, compressionLevel: 1 });
}

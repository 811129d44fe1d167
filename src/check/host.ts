/**
 * The two `HostFacts` readers: the running system, and a fixture tree (a directory laid out like `/`,
 * plus `kata-check-fixture.json` for what is not a file: euid, machine, the KVM probe, the releases API).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import { errnoCode, UsageError } from '../errors/index.js';
import { underRoot } from '../host/paths.js';
import { machineFromNodeArch } from './arch.js';
import type { HostFacts } from './facts.js';
import { probeKvm } from './kvm-probe.js';
import { fetchReleases } from './release-fetch.js';
import type { KvmProbeResult, Read, ReleaseFetch } from './types.js';

/** File access below `root`; `/` reads the host itself. */
function rootedFiles(root: string): Pick<HostFacts, 'root' | 'readText' | 'listDir' | 'exists'> {
  // underRoot refuses paths that would leave the root (a kernel release read from a tree could contain `..`).
  const at = (path: string): string => underRoot(root, path);
  return {
    root,
    readText(path: string): Read<string> {
      try {
        const bytes = readFileSync(at(path));
        const gzip = bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
        return { ok: true, value: (gzip ? gunzipSync(bytes) : bytes).toString('utf8') };
      } catch (error) {
        return { ok: false, code: errnoCode(error) ?? 'EINVAL' };
      }
    },
    listDir(path: string): Read<string[]> {
      try {
        return { ok: true, value: readdirSync(at(path)) };
      } catch (error) {
        return { ok: false, code: errnoCode(error) ?? 'EINVAL' };
      }
    },
    exists(path: string): boolean {
      try {
        return existsSync(at(path));
      } catch {
        return false;
      }
    },
  };
}

/** The machine this process runs on. */
export function systemHostFacts(): HostFacts {
  return {
    ...rootedFiles('/'),
    euid: () => process.geteuid?.(),
    machine: () => machineFromNodeArch(process.arch, endianness() === 'LE'),
    kvmProbe: probeKvm,
    fetchReleases,
  };
}

export const FIXTURE_FILE = 'kata-check-fixture.json';

const ProbeRecord: z.ZodType<KvmProbeResult> = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('not-run'), reason: z.string() }),
  z.object({ kind: z.literal('open-failed'), errno: z.string() }),
  z.object({ kind: z.literal('api-version-failed'), errno: z.string() }),
  z.object({ kind: z.literal('api-version-mismatch'), apiVersion: z.number() }),
  z.object({ kind: z.literal('create-vm-failed'), apiVersion: z.number(), errno: z.string() }),
  z.object({ kind: z.literal('ok'), apiVersion: z.number(), ipaLimitBits: z.number().optional() }),
]);

const ReleaseRecord = z.object({
  tag: z.string(),
  prerelease: z.boolean().default(false),
  draft: z.boolean().default(false),
  url: z.string().default(''),
  date: z.string().default(''),
});

const FixtureRecord = z.object({
  machine: z.string().optional(),
  euid: z.number().int().optional(),
  kvmProbe: ProbeRecord.optional(),
  releases: z
    .union([z.array(ReleaseRecord), z.literal('rate-limited'), z.object({ error: z.string() })])
    .optional(),
});
export type FixtureRecord = z.input<typeof FixtureRecord>;

/**
 * A fixture tree. Without a `kvmProbe` record the probe counts as not run; without `releases` the
 * network counts as unreachable. Throws a UsageError when the record is malformed.
 */
export function fixtureHostFacts(root: string): HostFacts {
  const files = rootedFiles(root);
  const raw = files.readText(`/${FIXTURE_FILE}`);
  let record: z.output<typeof FixtureRecord> = {};
  if (raw.ok) {
    let json: unknown;
    try {
      json = JSON.parse(raw.value);
    } catch (error) {
      throw new UsageError(`${join(root, FIXTURE_FILE)} is not JSON`, { input: '--host-root', cause: error });
    }
    const parsed = FixtureRecord.safeParse(json);
    if (!parsed.success) {
      throw new UsageError(`${join(root, FIXTURE_FILE)}: ${parsed.error.issues[0]?.message ?? 'invalid'}`, {
        input: '--host-root',
        hint: 'see docs/check.md for the fixture format',
      });
    }
    record = parsed.data;
  }
  return {
    ...files,
    euid: () => record.euid ?? process.geteuid?.(),
    machine: () => record.machine ?? 'unknown',
    kvmProbe: () =>
      Promise.resolve(
        record.kvmProbe ?? { kind: 'not-run', reason: `no kvmProbe record in ${FIXTURE_FILE}` },
      ),
    fetchReleases: (): Promise<ReleaseFetch> => {
      const r = record.releases;
      if (r === undefined) {
        return Promise.resolve({ kind: 'error', message: `no releases record in ${FIXTURE_FILE}` });
      }
      if (r === 'rate-limited') return Promise.resolve({ kind: 'rate-limited' });
      if (Array.isArray(r)) return Promise.resolve({ kind: 'ok', releases: r });
      return Promise.resolve({ kind: 'error', message: r.error });
    },
  };
}

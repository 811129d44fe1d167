import { CPU_FLAGS_TAG } from './arch.js';
import type { Arch, CpuVendor } from './types.js';

/** `/proc/cpuinfo`, reduced to its first CPU block (all CPUs of a host share the properties checked). */
export interface CpuInfo {
  /** The whole file; some facts (the POWER generation) may sit outside the first block. */
  readonly text: string;
  readonly firstBlock: string;
  /** `key: value` lines of the first block; the first occurrence of a key wins. */
  readonly fields: ReadonlyMap<string, string>;
}

/** Parses cpuinfo text; undefined when the first block is empty (upstream: "Cannot determine CPU details"). */
export function parseCpuInfo(text: string): CpuInfo | undefined {
  const normalised = text.replace(/\r\n/g, '\n');
  const firstBlock = normalised
    .split(/\n[ \t]*\n/)
    .map((b) => b.trim())
    .find((b) => b.length > 0);
  if (firstBlock === undefined) return undefined;
  const fields = new Map<string, string>();
  for (const line of firstBlock.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim();
    if (key.length > 0 && !fields.has(key)) fields.set(key, line.slice(colon + 1).trim());
  }
  return { text: normalised, firstBlock, fields };
}

/** The CPU flags of the first block, or undefined when the architecture has no flags line or it is absent. */
export function cpuFlags(info: CpuInfo, arch: Arch): ReadonlySet<string> | undefined {
  const tag = CPU_FLAGS_TAG[arch];
  if (tag === undefined) return undefined;
  const value = info.fields.get(tag);
  if (value === undefined) return undefined;
  return new Set(value.split(/\s+/).filter((f) => f.length > 0));
}

/** The generation number of a POWER CPU (`POWER9` → 9), searched in the whole file as upstream does. */
export function powerGeneration(info: CpuInfo): number | undefined {
  const match = /POWER(\d+)/.exec(info.text);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

export interface CpuIdentity {
  readonly vendor: CpuVendor;
  /** vendor_id, CPU implementer or similar, as written in the file. */
  readonly vendorRaw?: string;
  readonly model?: string;
}

const X86_VENDORS: Record<string, CpuVendor> = {
  GenuineIntel: 'intel',
  AuthenticAMD: 'amd',
  HygonGenuine: 'hygon',
};

/** Who made the CPU and what it is called, per architecture. */
export function cpuIdentity(info: CpuInfo, arch: Arch): CpuIdentity {
  switch (arch) {
    case 'amd64': {
      const raw = info.fields.get('vendor_id');
      const vendor = raw === undefined ? 'unknown' : (X86_VENDORS[raw] ?? 'other');
      return withOptional({ vendor }, raw, info.fields.get('model name'));
    }
    case 'arm64': {
      const raw = info.fields.get('CPU implementer');
      const vendor = raw === undefined ? 'unknown' : raw.toLowerCase() === '0x41' ? 'arm' : 'other';
      const version = info.fields.get('CPU architecture');
      return withOptional({ vendor }, raw, version === undefined ? undefined : `ARMv${version}`);
    }
    case 'ppc64le':
      return withOptional({ vendor: 'ibm' }, undefined, info.fields.get('cpu'));
    case 's390x': {
      const machine = /machine\s*=\s*(\w+)/.exec(info.text)?.[1];
      return withOptional(
        { vendor: 'ibm' },
        info.fields.get('vendor_id'),
        machine === undefined ? undefined : `IBM Z machine ${machine}`,
      );
    }
  }
}

function withOptional(base: { vendor: CpuVendor }, vendorRaw?: string, model?: string): CpuIdentity {
  return {
    ...base,
    ...(vendorRaw === undefined ? {} : { vendorRaw }),
    ...(model === undefined ? {} : { model }),
  };
}

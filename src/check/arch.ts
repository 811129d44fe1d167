import type { Arch, Hypervisor } from './types.js';

/** Maps `uname -m` (or `/proc/sys/kernel/arch`) to our architecture names; undefined when unsupported. */
export function normaliseArch(machine: string): Arch | undefined {
  switch (machine.trim()) {
    case 'x86_64':
    case 'amd64':
      return 'amd64';
    case 'aarch64':
    case 'arm64':
      return 'arm64';
    case 'ppc64le':
      return 'ppc64le';
    case 's390x':
      return 's390x';
    default:
      return undefined;
  }
}

/** `uname -m` spelling of Node's process.arch, for when /proc/sys/kernel/arch is missing. */
export function machineFromNodeArch(nodeArch: string, littleEndian: boolean): string {
  const map: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', s390x: 's390x' };
  if (nodeArch === 'ppc64') return littleEndian ? 'ppc64le' : 'ppc64';
  return map[nodeArch] ?? nodeArch;
}

/** Hypervisors kata-deploy ships per architecture (upstream SHIMS_<ARCH> defaults, reduced to the VMM). */
export const SHIPPED_HYPERVISORS: Record<Arch, readonly Hypervisor[]> = {
  amd64: ['qemu', 'clh', 'dragonball', 'firecracker'],
  arm64: ['qemu', 'clh', 'dragonball', 'firecracker'],
  ppc64le: ['qemu'],
  s390x: ['qemu'],
};

/** The cpuinfo line that holds the CPU flags; ppc64le has none. */
export const CPU_FLAGS_TAG: Record<Arch, string | undefined> = {
  amd64: 'flags',
  arm64: 'Features',
  ppc64le: undefined,
  s390x: 'features',
};

export interface KvmIoctls {
  readonly getApiVersion: number;
  readonly createVm: number;
  readonly checkExtension: number;
}

/**
 * KVM ioctl request numbers. They are `_IO(0xAE, n)`; on powerpc `_IOC_NONE` is 1 in the top three bits
 * instead of 0, which adds 0x20000000 (upstream hard-codes 0x2000AE01 for KVM_CREATE_VM there).
 */
export function kvmIoctls(arch: Arch): KvmIoctls {
  const none = arch === 'ppc64le' ? 0x2000_0000 : 0;
  return { getApiVersion: none | 0xae00, createVm: none | 0xae01, checkExtension: none | 0xae03 };
}

/** The only KVM API version Linux has ever shipped; anything else means a broken kernel. */
export const KVM_API_VERSION = 12;

/** KVM_CAP_ARM_VM_IPA_SIZE: the largest guest physical address size on arm64 (informational). */
export const KVM_CAP_ARM_VM_IPA_SIZE = 165;

/**
 * What kata-deploy knows about shims: the names it accepts, the default list per architecture, the hypervisor
 * each one drives and which runtime (Go or Rust) implements it. Data only; no host access.
 */

/** Every shim name upstream kata-deploy accepts. */
export const ALL_SHIMS = [
  'clh',
  'clh-azure',
  'clh-azure-runtime-rs',
  'clh-runtime-rs',
  'cloud-hypervisor',
  'dragonball',
  'fc',
  'firecracker',
  'openvmm-azure-runtime-rs',
  'remote',
  'qemu',
  'qemu-coco-dev',
  'qemu-coco-dev-runtime-rs',
  'qemu-nvidia-cpu',
  'qemu-nvidia-cpu-runtime-rs',
  'qemu-nvidia-gpu',
  'qemu-nvidia-gpu-runtime-rs',
  'qemu-nvidia-gpu-snp',
  'qemu-nvidia-gpu-snp-runtime-rs',
  'qemu-nvidia-gpu-tdx',
  'qemu-nvidia-gpu-tdx-runtime-rs',
  'qemu-runtime-rs',
  'qemu-se',
  'qemu-se-runtime-rs',
  'qemu-snp',
  'qemu-snp-runtime-rs',
  'qemu-tdx',
  'qemu-tdx-runtime-rs',
] as const;

export function isKnownShim(name: string): boolean {
  return (ALL_SHIMS as readonly string[]).includes(name);
}

const X86_64_SHIMS = [
  'clh',
  'clh-runtime-rs',
  'dragonball',
  'fc',
  'qemu',
  'qemu-coco-dev',
  'qemu-coco-dev-runtime-rs',
  'qemu-runtime-rs',
  'qemu-nvidia-cpu',
  'qemu-nvidia-cpu-runtime-rs',
  'qemu-nvidia-gpu',
  'qemu-nvidia-gpu-runtime-rs',
  'qemu-nvidia-gpu-snp',
  'qemu-nvidia-gpu-snp-runtime-rs',
  'qemu-nvidia-gpu-tdx',
  'qemu-nvidia-gpu-tdx-runtime-rs',
  'qemu-snp',
  'qemu-snp-runtime-rs',
  'qemu-tdx',
  'qemu-tdx-runtime-rs',
];

/** Upstream's default `SHIMS_<ARCH>` per architecture; unknown architectures get `qemu` only. */
export const DEFAULT_SHIMS: Readonly<Record<string, readonly string[]>> = {
  x86_64: X86_64_SHIMS,
  aarch64: [
    'clh',
    'clh-runtime-rs',
    'dragonball',
    'fc',
    'qemu',
    'qemu-coco-dev-runtime-rs',
    'qemu-runtime-rs',
    'qemu-nvidia-cpu',
    'qemu-nvidia-cpu-runtime-rs',
    'qemu-nvidia-gpu',
  ],
  s390x: [
    'qemu',
    'qemu-runtime-rs',
    'qemu-se',
    'qemu-se-runtime-rs',
    'qemu-coco-dev',
    'qemu-coco-dev-runtime-rs',
  ],
  ppc64le: ['qemu', 'qemu-runtime-rs'],
};

export function defaultShimsFor(arch: string): readonly string[] {
  return DEFAULT_SHIMS[arch] ?? ['qemu'];
}

export function defaultShimFor(arch: string): string {
  return arch in DEFAULT_SHIMS ? 'qemu-runtime-rs' : 'qemu';
}

/** The `[hypervisor.<name>]` table a shim's configuration uses. */
export function hypervisorOf(shim: string): string {
  if (shim.startsWith('qemu')) return 'qemu';
  if (shim.startsWith('clh') || shim === 'cloud-hypervisor') return 'clh';
  if (shim === 'fc' || shim === 'firecracker') return 'firecracker';
  if (shim.startsWith('openvmm')) return 'openvmm';
  return shim; // dragonball, remote
}

/** Rust shims live under `runtime-rs/`: their binary, and their configuration files. */
export function isRustShim(shim: string): boolean {
  return shim.endsWith('-runtime-rs') || shim === 'dragonball' || shim === 'cloud-hypervisor';
}

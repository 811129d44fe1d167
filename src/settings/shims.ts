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

export type Shim = (typeof ALL_SHIMS)[number];

/** A RuntimeClass's `overhead.podFixed`: what the VM costs beyond the pod's containers. */
export interface PodOverhead {
  readonly memory: string;
  readonly cpu: string;
}

const LIGHT: PodOverhead = { memory: '130Mi', cpu: '250m' };
const QEMU: PodOverhead = { memory: '320Mi', cpu: '250m' };
const SE: PodOverhead = { memory: '1024Mi', cpu: '1' };
const CONFIDENTIAL: PodOverhead = { memory: '2048Mi', cpu: '1' };
const GPU: PodOverhead = { memory: '10240Mi', cpu: '1' };

/**
 * Upstream chart's default overhead per shim (its `shims.<name>.runtimeClass.overhead`); the RuntimeClasses in
 * deploy/ are generated from it (`npm run manifests`). Upstream writes `1.0` CPUs, the same quantity as `1`.
 */
export const POD_OVERHEAD: Readonly<Record<Shim, PodOverhead>> = {
  clh: LIGHT,
  'clh-azure': LIGHT,
  'clh-azure-runtime-rs': LIGHT,
  'clh-runtime-rs': LIGHT,
  'cloud-hypervisor': LIGHT,
  dragonball: LIGHT,
  fc: LIGHT,
  firecracker: LIGHT,
  'openvmm-azure-runtime-rs': LIGHT,
  remote: { memory: '120Mi', cpu: '250m' },
  qemu: QEMU,
  'qemu-runtime-rs': QEMU,
  'qemu-coco-dev': { memory: '160Mi', cpu: '250m' },
  'qemu-coco-dev-runtime-rs': QEMU,
  'qemu-nvidia-cpu': QEMU,
  'qemu-nvidia-cpu-runtime-rs': QEMU,
  'qemu-nvidia-gpu': GPU,
  'qemu-nvidia-gpu-runtime-rs': GPU,
  'qemu-nvidia-gpu-snp': GPU,
  'qemu-nvidia-gpu-snp-runtime-rs': GPU,
  'qemu-nvidia-gpu-tdx': GPU,
  'qemu-nvidia-gpu-tdx-runtime-rs': GPU,
  'qemu-se': SE,
  'qemu-se-runtime-rs': SE,
  'qemu-snp': CONFIDENTIAL,
  'qemu-snp-runtime-rs': CONFIDENTIAL,
  'qemu-tdx': CONFIDENTIAL,
  'qemu-tdx-runtime-rs': CONFIDENTIAL,
};

export function isKnownShim(name: string): name is Shim {
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

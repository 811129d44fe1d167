/**
 * What Kata Containers needs from the host kernel, per architecture and hypervisor, as data.
 *
 * Which hypervisor needs what (Kata 3.x): QEMU refuses to start without `/dev/vhost-vsock` (the runtime
 * checks it when loading its configuration) and opens `/dev/vhost-net` for every tap device unless
 * `disable_vhost_net = true`. Cloud Hypervisor, Firecracker and Dragonball use hybrid vsock (a unix socket)
 * and their own virtio-net (upstream hard-codes DisableVhostNet for clh and firecracker), so they need
 * neither vhost module. Every KVM hypervisor needs `/dev/net/tun` for the pod's tap device.
 */
import type { Arch, Hypervisor } from './types.js';

export interface ModuleRequirement {
  /** Module name, with underscores as in /sys/module. */
  readonly name: string;
  readonly description: string;
  /** Hypervisors that cannot run without it; 'all' means every KVM-based hypervisor. */
  readonly neededBy: 'all' | readonly Hypervisor[];
  /** Kconfig symbol (without `CONFIG_`), for the hint when the module is absent. */
  readonly config: string;
  /** A device node that exists only when the module is in the kernel (built in without a sysfs entry). */
  readonly device?: string;
}

const VHOST_USERS: readonly Hypervisor[] = ['qemu', 'stratovirt'];

const KVM: ModuleRequirement = {
  name: 'kvm',
  description: 'Kernel-based Virtual Machine',
  neededBy: 'all',
  config: 'KVM',
  device: '/dev/kvm',
};
const VHOST: ModuleRequirement = {
  name: 'vhost',
  description: 'Host kernel accelerator for virtio',
  neededBy: VHOST_USERS,
  config: 'VHOST',
};
const VHOST_NET: ModuleRequirement = {
  name: 'vhost_net',
  description: 'Host kernel accelerator for virtio network',
  neededBy: VHOST_USERS,
  config: 'VHOST_NET',
  device: '/dev/vhost-net',
};
const VHOST_VSOCK: ModuleRequirement = {
  name: 'vhost_vsock',
  description: 'Host support for Linux VM sockets',
  neededBy: VHOST_USERS,
  config: 'VHOST_VSOCK',
  device: '/dev/vhost-vsock',
};
const TUN: ModuleRequirement = {
  name: 'tun',
  description: 'TUN/TAP devices for the pod network',
  neededBy: 'all',
  config: 'TUN',
  device: '/dev/net/tun',
};
const KVM_HV: ModuleRequirement = {
  name: 'kvm_hv',
  description: 'Kernel-based Virtual Machine hardware virtualization',
  neededBy: 'all',
  config: 'KVM_BOOK3S_64_HV',
};

/** Modules every host of the architecture needs; amd64's vendor module is chosen by `vendorModule`. */
export const ARCH_MODULES: Record<Arch, readonly ModuleRequirement[]> = {
  amd64: [KVM, VHOST, VHOST_NET, VHOST_VSOCK, TUN],
  arm64: [KVM, VHOST, VHOST_NET, VHOST_VSOCK, TUN],
  ppc64le: [KVM, KVM_HV, VHOST, VHOST_NET, VHOST_VSOCK, TUN],
  s390x: [KVM, VHOST, VHOST_NET, VHOST_VSOCK, TUN],
};

/** The x86 module that drives the CPU's virtualisation extension. */
export const X86_VENDOR_MODULES = {
  intel: { name: 'kvm_intel', description: 'Intel KVM', config: 'KVM_INTEL', extension: 'vmx' },
  amd: { name: 'kvm_amd', description: 'AMD KVM', config: 'KVM_AMD', extension: 'svm' },
} as const;

/** Other x86 modules that provide /dev/kvm without VMX or SVM (PVM: pagetable-based virtualisation). */
export const X86_ALTERNATIVE_KVM_BACKENDS = ['kvm_pvm'] as const;

export interface ParamRequirement {
  readonly module: string;
  readonly param: string;
  readonly expected: 'Y';
  readonly why: string;
  /** Inside a VM the outer hypervisor often cannot offer it; a mismatch is then only a warning. */
  readonly relaxedOnVmm: boolean;
}

/**
 * `unrestricted_guest` lets VT-x run real-mode guest code (firmware, boot loaders) directly; without it
 * KVM emulates that code slowly or fails. Upstream meant to require it on bare metal (commit 8cfb06f1a9)
 * but an inverted condition means it never does.
 */
export const PARAM_REQUIREMENTS: readonly ParamRequirement[] = [
  {
    module: 'kvm_intel',
    param: 'unrestricted_guest',
    expected: 'Y',
    why: 'lets VT-x run the guest firmware in real mode',
    relaxedOnVmm: true,
  },
];

/** The hypervisors among `candidates` that a requirement applies to. */
export function needersAmong(
  neededBy: 'all' | readonly Hypervisor[],
  candidates: readonly Hypervisor[],
): Hypervisor[] {
  const kvmBased = candidates.filter((h) => h !== 'remote');
  return neededBy === 'all' ? kvmBased : kvmBased.filter((h) => neededBy.includes(h));
}

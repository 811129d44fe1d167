/**
 * Vocabulary of the host check. A *fact* is something read from the host (a file, the KVM probe, the
 * releases API); a *rule* is a pure function from facts to *findings*; the *verdict* is derived from the
 * findings alone.
 */

/** Architectures with known requirements, in Go/Debian spelling. */
export const ARCHES = ['amd64', 'arm64', 'ppc64le', 's390x'] as const;
export type Arch = (typeof ARCHES)[number];

/** Hypervisor types the check understands (`--hypervisor`). `remote` runs the VM elsewhere (peer pods). */
export const HYPERVISORS = ['qemu', 'clh', 'firecracker', 'dragonball', 'stratovirt', 'remote'] as const;
export type Hypervisor = (typeof HYPERVISORS)[number];

export type Status = 'pass' | 'warn' | 'fail' | 'skip';

export interface Finding {
  /** Stable identifier, e.g. `cpu.flag.vmx`, `module.kvm_intel.unrestricted_guest`, `kvm.create-vm`. */
  readonly id: string;
  readonly status: Status;
  readonly message: string;
  /** What to do about a WARN or FAIL: which module to load, which BIOS setting, which parameter. */
  readonly hint?: string;
  /** Hypervisors this problem rules out while others stay usable (a WARN that is fatal for some). */
  readonly blocks?: readonly Hypervisor[];
  /** The rule could not decide (missing evidence, e.g. the KVM probe could not run). */
  readonly undecided?: boolean;
}

export type Verdict = 'capable' | 'not-capable' | 'unknown';

export type CpuVendor = 'intel' | 'amd' | 'hygon' | 'arm' | 'ibm' | 'other' | 'unknown';

export interface CheckReport {
  readonly verdict: Verdict;
  readonly capable: boolean;
  /** The verdict as a sentence, as printed on the last line. */
  readonly message: string;
  /** Normalised architecture, or the raw machine name when it is not supported. */
  readonly arch: string;
  readonly vendor: CpuVendor;
  readonly cpuModel?: string;
  readonly root: boolean;
  readonly hypervisors: { readonly checked: readonly Hypervisor[]; readonly usable: readonly Hypervisor[] };
  readonly checks: readonly Finding[];
  readonly notes: readonly string[];
}

/** Outcome of the KVM ioctl probe: open `/dev/kvm`, `KVM_GET_API_VERSION`, `KVM_CREATE_VM`. */
export type KvmProbeResult =
  | { readonly kind: 'not-run'; readonly reason: string }
  | { readonly kind: 'open-failed'; readonly errno: string }
  | { readonly kind: 'api-version-failed'; readonly errno: string }
  | { readonly kind: 'api-version-mismatch'; readonly apiVersion: number }
  | { readonly kind: 'create-vm-failed'; readonly apiVersion: number; readonly errno: string }
  | { readonly kind: 'ok'; readonly apiVersion: number; readonly ipaLimitBits?: number };

/** One entry of the GitHub releases API, reduced to what the release rule reads. */
export interface Release {
  readonly tag: string;
  readonly prerelease: boolean;
  readonly draft: boolean;
  readonly url: string;
  readonly date: string;
}

export type ReleaseFetch =
  | { readonly kind: 'skipped'; readonly reason: string }
  | { readonly kind: 'ok'; readonly releases: readonly Release[] }
  | { readonly kind: 'rate-limited' }
  | { readonly kind: 'error'; readonly message: string };

/** A file read from the host: its text, or the errno code that prevented it. */
export type Read<T = string> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly code: string };

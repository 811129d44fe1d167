import { cpuFlags, cpuIdentity, parseCpuInfo, type CpuIdentity, type CpuInfo } from '../cpuinfo.js';
import type { CheckFacts } from '../facts.js';
import { alternativeKvmBackend } from './module-state.js';
import type { Arch, Finding, Hypervisor, KvmProbeResult } from '../types.js';

/** What several rules derive from the same facts, computed once. Pure. */
export interface RuleContext {
  readonly arch: Arch;
  /** Hypervisors being checked; the verdict names those that stay usable. */
  readonly candidates: readonly Hypervisor[];
  /** The candidates that need local KVM (all but `remote`). */
  readonly kvmCandidates: readonly Hypervisor[];
  readonly cpu: CpuInfo | undefined;
  readonly identity: CpuIdentity;
  readonly flags: ReadonlySet<string> | undefined;
  /** x86 only: which vendor module and extension apply (a Hygon CPU uses AMD's). */
  readonly x86Family: 'intel' | 'amd' | undefined;
  /** x86 only: the `hypervisor` CPU flag, i.e. this system is itself a VM. Undefined where unknowable. */
  readonly onVmm: boolean | undefined;
  /** x86 only: a KVM backend that needs no VMX/SVM (kvm_pvm), when one is present. */
  readonly alternativeBackend: string | undefined;
  readonly probe: KvmProbeResult;
  readonly root: boolean;
}

export interface RuleOutput {
  readonly findings: Finding[];
  readonly notes: string[];
}

export function ruleContext(facts: CheckFacts, arch: Arch, candidates: readonly Hypervisor[]): RuleContext {
  const cpu = facts.cpuinfo.ok ? parseCpuInfo(facts.cpuinfo.value) : undefined;
  const identity: CpuIdentity = cpu ? cpuIdentity(cpu, arch) : { vendor: 'unknown' };
  const flags = cpu ? cpuFlags(cpu, arch) : undefined;
  return {
    arch,
    candidates,
    kvmCandidates: candidates.filter((h) => h !== 'remote'),
    cpu,
    identity,
    flags,
    x86Family: arch === 'amd64' ? x86Family(identity, flags) : undefined,
    onVmm: arch === 'amd64' && flags ? flags.has('hypervisor') : undefined,
    alternativeBackend: arch === 'amd64' ? alternativeKvmBackend(facts.modules) : undefined,
    probe: facts.kvmProbe,
    root: facts.euid === 0,
  };
}

/** Intel and AMD by vendor; other vendors by the extension they offer (VIA/Zhaoxin implement VMX). */
function x86Family(
  identity: CpuIdentity,
  flags: ReadonlySet<string> | undefined,
): 'intel' | 'amd' | undefined {
  if (identity.vendor === 'intel') return 'intel';
  if (identity.vendor === 'amd' || identity.vendor === 'hygon') return 'amd';
  if (flags?.has('vmx')) return 'intel';
  if (flags?.has('svm')) return 'amd';
  return undefined;
}

export function probeSucceeded(ctx: RuleContext): boolean {
  return ctx.probe.kind === 'ok';
}

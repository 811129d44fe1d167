/** Facts in, report out: runs every rule and derives the verdict. Pure (no I/O, no clock, no environment). */
import { SHIPPED_HYPERVISORS } from './arch.js';
import type { CheckFacts } from './facts.js';
import { ruleContext, type RuleOutput } from './rules/context.js';
import { cpuRules } from './rules/cpu.js';
import { fail, pass } from './rules/finding.js';
import { kvmRules } from './rules/kvm.js';
import { moduleRules } from './rules/modules.js';
import { releaseRule } from './rules/release.js';
import { decideVerdict, NOT_CAPABLE_MESSAGE } from './rules/verdict.js';
import type { Arch, CheckReport, Finding, Hypervisor } from './types.js';

export interface EvaluateOptions {
  /** Check for this hypervisor only; by default, for every hypervisor kata-deploy ships on the arch. */
  readonly hypervisor?: Hypervisor;
  /** The Kata Containers version kata-deploy installs, compared with the newest release. */
  readonly kataVersion: string;
  readonly includePrereleases: boolean;
  /** Findings of other rules to weigh in (the erofs snapshotter's, when it is asked for). */
  readonly extra?: readonly Finding[];
}

/** Architectures each VMM runs on; QEMU and remote run everywhere. */
const HYPERVISOR_ARCHES: Partial<Record<Hypervisor, readonly Arch[]>> = {
  clh: ['amd64', 'arm64'],
  firecracker: ['amd64', 'arm64'],
  dragonball: ['amd64', 'arm64'],
  stratovirt: ['amd64', 'arm64'],
};

export function evaluate(facts: CheckFacts, options: EvaluateOptions): CheckReport {
  const release = releaseRule(facts.release, options.kataVersion, options.includePrereleases);
  const root = facts.euid === 0;
  const arch = facts.arch;
  if (arch === undefined) {
    const unsupported = fail(
      'arch',
      `architecture ${facts.machine} is not supported`,
      'Kata Containers runs on amd64, arm64, ppc64le and s390x',
    );
    return {
      verdict: 'not-capable',
      capable: false,
      message: NOT_CAPABLE_MESSAGE,
      arch: facts.machine,
      vendor: 'unknown',
      root,
      hypervisors: { checked: [], usable: [] },
      checks: [unsupported, release],
      notes: [],
    };
  }
  const candidates = options.hypervisor ? [options.hypervisor] : [...SHIPPED_HYPERVISORS[arch]];
  const ctx = ruleContext(facts, arch, candidates);
  const outputs: RuleOutput[] = [];
  const findings: Finding[] = [pass('arch', `architecture ${arch} (${facts.machine})`)];
  const notes: string[] = [];
  const supported = HYPERVISOR_ARCHES[options.hypervisor ?? 'qemu'];
  if (options.hypervisor && supported && !supported.includes(arch)) {
    findings.push(
      fail(
        'hypervisor',
        `${options.hypervisor} does not run on ${arch} (only on ${supported.join(', ')})`,
        `on ${arch} use --hypervisor ${SHIPPED_HYPERVISORS[arch].join(' or ')}`,
      ),
    );
  }
  if (ctx.kvmCandidates.length === 0) {
    notes.push('remote hypervisor: the VMs run elsewhere (peer pods), so this host needs no KVM.');
  } else {
    outputs.push(cpuRules(facts, ctx), moduleRules(facts, ctx), kvmRules(facts, ctx));
  }
  for (const o of outputs) {
    findings.push(...o.findings);
    notes.push(...o.notes);
  }
  findings.push(...(options.extra ?? []), release);
  const decided = decideVerdict(findings, candidates);
  return {
    verdict: decided.verdict,
    capable: decided.verdict === 'capable',
    message: decided.message,
    arch,
    vendor: ctx.identity.vendor,
    ...(ctx.identity.model === undefined ? {} : { cpuModel: ctx.identity.model }),
    root,
    hypervisors: { checked: candidates, usable: decided.usable },
    checks: findings,
    notes,
  };
}

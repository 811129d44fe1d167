/** CPU rules: the vendor, the flags Kata needs, the virtualisation extension, POWER SMT. Pure. */
import { powerGeneration } from '../cpuinfo.js';
import type { CheckFacts } from '../facts.js';
import type { Finding } from '../types.js';
import { probeSucceeded, type RuleContext, type RuleOutput } from './context.js';
import { fail, pass, warn } from './finding.js';

const BIOS_HINT = {
  vmx: 'enable Intel Virtualization Technology (VT-x) in the BIOS/UEFI setup, then power the machine off and on',
  svm: 'enable SVM Mode (AMD-V) in the BIOS/UEFI setup, then power the machine off and on',
  sie: 'run on an LPAR, or in a KVM guest whose host enables nested virtualisation (kvm.nested=1)',
} as const;

const EXTENSION_NAME = { vmx: 'Intel VT-x', svm: 'AMD-V', sie: 'Start Interpretive Execution' } as const;
type Extension = keyof typeof EXTENSION_NAME;

export function cpuRules(facts: CheckFacts, ctx: RuleContext): RuleOutput {
  const out: RuleOutput = { findings: [], notes: [] };
  if (!facts.cpuinfo.ok) {
    out.findings.push(fail('cpu.info', `cannot read /proc/cpuinfo: ${facts.cpuinfo.code}`, 'mount /proc'));
    return out;
  }
  if (ctx.cpu === undefined) {
    out.findings.push(fail('cpu.info', 'cannot determine CPU details: /proc/cpuinfo has no CPU block'));
    return out;
  }
  switch (ctx.arch) {
    case 'amd64':
      amd64(ctx, out);
      break;
    case 's390x':
      if (!ctx.flags) out.findings.push(fail('cpu.flags', 'no features line in /proc/cpuinfo'));
      else out.findings.push(...extension('sie', ctx.flags.has('sie'), ctx, out.notes));
      break;
    case 'ppc64le':
      out.findings.push(...power(facts, ctx));
      break;
    case 'arm64':
      // No cpuinfo flag says whether the kernel booted at EL2; /dev/kvm and the probe answer that.
      out.findings.push(pass('cpu.info', `${ctx.identity.model ?? 'ARM'} CPU`));
      break;
  }
  return out;
}

function amd64(ctx: RuleContext, out: RuleOutput): void {
  const raw = ctx.identity.vendorRaw ?? 'no vendor_id';
  const family = ctx.x86Family;
  if (ctx.identity.vendor === 'intel' || ctx.identity.vendor === 'amd') {
    out.findings.push(
      pass('cpu.vendor', `${ctx.identity.vendor === 'intel' ? 'Intel' : 'AMD'} CPU (${raw})`),
    );
  } else if (ctx.identity.vendor === 'hygon') {
    out.findings.push(pass('cpu.vendor', `Hygon CPU (${raw}), checked as AMD-compatible`));
  } else if (family !== undefined) {
    const as = family === 'intel' ? 'Intel-compatible (it has vmx)' : 'AMD-compatible (it has svm)';
    out.findings.push(warn('cpu.vendor', `unknown CPU vendor ${raw}, checked as ${as}`));
  } else if (probeSucceeded(ctx)) {
    out.findings.push(warn('cpu.vendor', `unknown CPU vendor ${raw}, but the KVM probe created a VM`));
  } else {
    out.findings.push(
      fail('cpu.vendor', `unknown CPU vendor ${raw}`, 'Kata Containers on x86_64 needs an Intel or AMD CPU'),
    );
  }
  if (!ctx.flags) {
    out.findings.push(fail('cpu.flags', 'cannot find CPU flags: no flags line in /proc/cpuinfo'));
    return;
  }
  const required: [string, string][] = [
    ['lm', '64-bit CPU'],
    ['sse4_1', 'SSE4.1'],
  ];
  for (const [flag, what] of required) {
    out.findings.push(
      ctx.flags.has(flag)
        ? pass(`cpu.flag.${flag}`, `${what} (${flag})`)
        : fail(
            `cpu.flag.${flag}`,
            `${what}: the ${flag} flag is missing from /proc/cpuinfo`,
            ctx.onVmm
              ? 'give this VM the host CPU model (e.g. QEMU -cpu host)'
              : `a CPU with ${flag} is required`,
          ),
    );
  }
  const ext: Extension = family === 'amd' ? 'svm' : 'vmx';
  out.findings.push(...extension(ext, ctx.flags.has(ext), ctx, out.notes));
}

/**
 * The virtualisation extension. The flag alone is not the truth: a VM may hide it while its hypervisor still
 * offers KVM (nested virtualisation, or a KVM backend such as PVM that needs no extension). The probe decides.
 */
function extension(ext: Extension, present: boolean, ctx: RuleContext, notes: string[]): Finding[] {
  const id = `cpu.flag.${ext}`;
  const name = `${EXTENSION_NAME[ext]} (${ext})`;
  if (present) return [pass(id, `hardware virtualisation: ${name}`)];
  if (probeSucceeded(ctx)) {
    notes.push(
      ctx.onVmm
        ? `nested virtualisation: /proc/cpuinfo has no ${ext} flag and the hypervisor flag is set (this system is ` +
            'itself a VM), yet the KVM probe created a VM, so KVM works here. VMs will run slower than on bare metal.'
        : `/proc/cpuinfo has no ${ext} flag, yet the KVM probe created a VM, so KVM works here.`,
    );
    return [
      warn(id, `${ext} is not in /proc/cpuinfo, but the KVM probe created a VM (nested virtualisation)`),
    ];
  }
  if (ctx.alternativeBackend !== undefined) {
    return [warn(id, `${ext} is not in /proc/cpuinfo; ${ctx.alternativeBackend} provides KVM without it`)];
  }
  const nestedHint = `enable nested virtualisation on the outer hypervisor and pass ${ext} through to this VM`;
  if (ctx.probe.kind === 'not-run' && ctx.onVmm) {
    return [
      {
        ...warn(
          id,
          `${ext} is not in /proc/cpuinfo and this system is a VM; without the KVM probe (${ctx.probe.reason}) ` +
            'it cannot be told whether KVM works',
          `run kata-deploy check as root: VMs often hide ${ext} while KVM still works; otherwise ${nestedHint}`,
        ),
        undecided: true,
      },
    ];
  }
  return [fail(id, `hardware virtualisation: ${name} is missing`, ctx.onVmm ? nestedHint : BIOS_HINT[ext])];
}

/** POWER8 and older need SMT off for KVM-HV; POWER9 and newer do not. */
function power(facts: CheckFacts, ctx: RuleContext): Finding[] {
  const generation = ctx.cpu ? powerGeneration(ctx.cpu) : undefined;
  const findings: Finding[] = [];
  if (generation === undefined) {
    findings.push(
      warn('cpu.power', 'cannot find the POWER generation in /proc/cpuinfo; assuming POWER8 or older'),
    );
  } else {
    findings.push(pass('cpu.power', `POWER${generation} CPU`));
    if (generation > 8) return findings;
  }
  const smtHint = 'turn SMT off with `ppc64_cpu --smt=off`';
  if (!facts.smtControl.ok) {
    findings.push(
      warn(
        'cpu.smt',
        `cannot tell whether SMT is off (/sys/devices/system/cpu/smt/control: ${facts.smtControl.code})`,
        `run \`ppc64_cpu --smt\`; it must say "SMT is off", otherwise ${smtHint}`,
      ),
    );
    return findings;
  }
  const control = facts.smtControl.value.trim();
  if (['off', 'forceoff', 'notsupported', '1'].includes(control)) {
    findings.push(pass('cpu.smt', `SMT is off (${control})`));
  } else if (control === 'notimplemented') {
    findings.push(warn('cpu.smt', 'the kernel cannot report SMT', `run \`ppc64_cpu --smt\`; ${smtHint}`));
  } else {
    findings.push(fail('cpu.smt', `SMT is ${control}: KVM on POWER8 and older needs SMT off`, smtHint));
  }
  return findings;
}

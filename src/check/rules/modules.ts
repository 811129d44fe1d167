/**
 * Kernel module rules. A module counts as present when it is loaded, built in, or its device node exists.
 * Nothing is ever loaded: the hint says what to load (upstream runs modprobe as root). Pure.
 */
import type { CheckFacts, ModuleFacts } from '../facts.js';
import {
  ARCH_MODULES,
  needersAmong,
  PARAM_REQUIREMENTS,
  X86_VENDOR_MODULES,
  type ModuleRequirement,
} from '../requirements.js';
import type { Finding, Hypervisor } from '../types.js';
import { probeSucceeded, type RuleContext, type RuleOutput } from './context.js';
import { fail, pass, warn } from './finding.js';
import { isPresent, moduleState, type ModuleState } from './module-state.js';

/** How to get the module, given what is known about the kernel. */
function loadHint(name: string, config: string, state: ModuleState, modules: ModuleFacts): string {
  if (state === 'not-built') {
    return `this kernel was built without CONFIG_${config}; use a kernel with CONFIG_${config}=y or =m`;
  }
  if (state === 'unknown' && modules.loaded === undefined && modules.sysfs !== undefined) {
    return `this kernel cannot load modules (no /proc/modules); it needs CONFIG_${config}=y`;
  }
  const load = `load it with \`modprobe ${name}\` and list it in /etc/modules-load.d/ so it loads at boot`;
  return state === 'on-disk'
    ? load
    : `${load}; if modprobe cannot find it, install the kernel's extra modules`;
}

const STATE_WORDS: Record<ModuleState, string> = {
  loaded: 'loaded',
  'built-in': 'built in',
  device: 'present',
  'on-disk': 'installed but not loaded',
  'not-built': 'not in this kernel',
  unknown: 'not loaded',
};

export function moduleRules(facts: CheckFacts, ctx: RuleContext): RuleOutput {
  const out: RuleOutput = { findings: [], notes: [] };
  if (ctx.kvmCandidates.length === 0) return out;
  if (ctx.arch === 'amd64') vendorModule(facts, ctx, out);
  for (const req of ARCH_MODULES[ctx.arch]) {
    const needers = needersAmong(req.neededBy, ctx.kvmCandidates);
    if (needers.length > 0) out.findings.push(requiredModule(req, needers, facts, ctx));
  }
  return out;
}

function requiredModule(
  req: ModuleRequirement,
  needers: readonly Hypervisor[],
  facts: CheckFacts,
  ctx: RuleContext,
): Finding {
  const device = req.device === undefined ? undefined : facts.devices.get(req.device);
  const state = moduleState(req.name, req.config, facts.modules, device);
  const id = `module.${req.name}`;
  const what = `${req.name} (${req.description})`;
  if (isPresent(state)) return pass(id, `${what}: ${STATE_WORDS[state]}`);
  const hint = loadHint(req.name, req.config, state, facts.modules);
  if (needers.length === ctx.kvmCandidates.length) return fail(id, `${what}: ${STATE_WORDS[state]}`, hint);
  const others = ctx.kvmCandidates.filter((h) => !needers.includes(h));
  return {
    ...warn(
      id,
      `${what}: ${STATE_WORDS[state]}; ${needers.join(' and ')} cannot run without it`,
      `${hint}; ${others.join(', ')} do not need it`,
    ),
    blocks: needers,
  };
}

/** kvm_intel or kvm_amd, its parameters, and the alternative backends that also provide /dev/kvm. */
function vendorModule(facts: CheckFacts, ctx: RuleContext, out: RuleOutput): void {
  if (ctx.x86Family === undefined) return;
  const mod = X86_VENDOR_MODULES[ctx.x86Family];
  const id = `module.${mod.name}`;
  const what = `${mod.name} (${mod.description})`;
  const state = moduleState(mod.name, mod.config, facts.modules, undefined);
  if (isPresent(state)) {
    out.findings.push(pass(id, `${what}: ${STATE_WORDS[state]}`));
    out.findings.push(...paramFindings(mod.name, facts, ctx));
    return;
  }
  const alternative = ctx.alternativeBackend;
  if (alternative !== undefined) {
    out.findings.push(warn(id, `${what}: ${STATE_WORDS[state]}; KVM is provided by ${alternative} instead`));
    out.notes.push(
      `KVM is provided by ${alternative} (pagetable-based virtualisation, which needs no VMX or SVM), not by ` +
        `${mod.name}; start a Kata container once to confirm the guest kernel boots under it.`,
    );
    return;
  }
  if (probeSucceeded(ctx)) {
    out.findings.push(warn(id, `${what}: ${STATE_WORDS[state]}, but the KVM probe created a VM`));
    return;
  }
  const hint = loadHint(mod.name, mod.config, state, facts.modules);
  const bios = ctx.flags?.has(mod.extension)
    ? ''
    : `; if it refuses to load, ${mod.extension} is disabled in the BIOS/UEFI setup`;
  out.findings.push(fail(id, `${what}: ${STATE_WORDS[state]}`, `${hint}${bios}`));
}

/** Module parameters with a required value; `relaxedOnVmm` ones only warn inside a VM. */
function paramFindings(module: string, facts: CheckFacts, ctx: RuleContext): Finding[] {
  const findings: Finding[] = [];
  for (const req of PARAM_REQUIREMENTS.filter((p) => p.module === module)) {
    const id = `module.${req.module}.${req.param}`;
    const path = `/sys/module/${req.module}/parameters/${req.param}`;
    const read = facts.params.get(`${req.module}.${req.param}`);
    if (read === undefined || !read.ok) {
      findings.push(warn(id, `cannot read ${path}: ${read?.ok === false ? read.code : 'not read'}`));
      continue;
    }
    const value = read.value.replace(/[\r\n]+$/, '').trim();
    const setting = `${req.module}.${req.param}=${value}`;
    if (value === req.expected || value === '1') {
      findings.push(pass(id, `${setting} (${req.why})`));
    } else if (req.relaxedOnVmm && ctx.onVmm) {
      findings.push(warn(id, `${setting}: accepted because this system is a VM (${req.why} on bare metal)`));
    } else {
      findings.push(
        fail(
          id,
          `${setting}, expected ${req.expected}: it ${req.why}`,
          `reload the module with the parameter set: \`modprobe -r ${req.module} && modprobe ${req.module} ` +
            `${req.param}=1\`, and add \`options ${req.module} ${req.param}=1\` to /etc/modprobe.d/kvm.conf to keep it`,
        ),
      );
    }
  }
  return findings;
}

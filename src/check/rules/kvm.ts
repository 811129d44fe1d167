/** KVM rules: the device node, the kernel command line (arm64), and the ioctl probe. Pure. */
import { KVM_API_VERSION } from '../arch.js';
import { PATHS, type CheckFacts } from '../facts.js';
import { X86_VENDOR_MODULES } from '../requirements.js';
import type { Finding } from '../types.js';
import type { RuleContext, RuleOutput } from './context.js';
import { fail, pass, warn } from './finding.js';

export function kvmRules(facts: CheckFacts, ctx: RuleContext): RuleOutput {
  const out: RuleOutput = { findings: [], notes: [] };
  if (ctx.kvmCandidates.length === 0) return out;
  if (ctx.arch === 'arm64') out.findings.push(...armCmdline(facts));
  const device = facts.devices.get(PATHS.kvmDevice) === true;
  out.findings.push(
    device
      ? pass('kvm.device', `${PATHS.kvmDevice} exists`)
      : fail('kvm.device', `${PATHS.kvmDevice} does not exist`, loadKvmHint(ctx)),
  );
  const probe = ctx.probe;
  // A missing device already failed above; the probe's ENOENT would say the same again.
  if (!device && probe.kind === 'open-failed' && probe.errno === 'ENOENT') return out;
  out.findings.push(...probeFindings(ctx));
  if (probe.kind === 'ok' && probe.ipaLimitBits !== undefined) {
    out.notes.push(`KVM IPA limit: ${probe.ipaLimitBits} bits of guest physical address space.`);
  }
  return out;
}

function probeFindings(ctx: RuleContext): Finding[] {
  const probe = ctx.probe;
  const dev = PATHS.kvmDevice;
  switch (probe.kind) {
    case 'not-run':
      return [
        warn(
          'kvm.probe',
          `KVM probe not run: ${probe.reason}`,
          ctx.root ? undefined : `run as root to open ${dev} and create a test VM`,
        ),
      ];
    case 'open-failed':
      return [fail('kvm.open', `cannot open ${dev}: ${probe.errno}`, openHint(probe.errno, ctx))];
    case 'api-version-failed':
      return [
        pass('kvm.open', `opened ${dev}`),
        fail(
          'kvm.api-version',
          `KVM_GET_API_VERSION failed: ${probe.errno}`,
          `check \`dmesg\` for KVM errors`,
        ),
      ];
    case 'api-version-mismatch':
      return [
        pass('kvm.open', `opened ${dev}`),
        fail(
          'kvm.api-version',
          `KVM API version is ${probe.apiVersion}, expected ${KVM_API_VERSION}`,
          `${dev} is not a Linux KVM device Kata can use; update the kernel`,
        ),
      ];
    case 'create-vm-failed':
      return [
        pass('kvm.open', `opened ${dev}`),
        pass('kvm.api-version', `KVM API version ${probe.apiVersion}`),
        probe.errno === 'EBUSY'
          ? fail(
              'kvm.create-vm',
              'cannot create a VM: another hypervisor is running (KVM_CREATE_VM: EBUSY)',
              'stop the other hypervisor that holds the virtualisation extension (VirtualBox: unload vboxdrv; ' +
                'VMware: vmmon), then check again',
            )
          : fail(
              'kvm.create-vm',
              `cannot create a VM (KVM_CREATE_VM: ${probe.errno})`,
              probe.errno === 'ENOMEM' || probe.errno === 'EMFILE'
                ? 'free memory or file descriptors and try again'
                : 'check `dmesg` for KVM errors',
            ),
      ];
    case 'ok':
      return [
        pass('kvm.open', `opened ${dev}`),
        pass('kvm.api-version', `KVM API version ${probe.apiVersion}`),
        pass('kvm.create-vm', 'created a test VM: the system can currently create Kata Containers'),
      ];
  }
}

function openHint(errno: string, ctx: RuleContext): string {
  switch (errno) {
    case 'EACCES':
    case 'EPERM':
      return 'something denies access even to root: a device cgroup, SELinux/AppArmor, or a container without the device (pass --device /dev/kvm)';
    case 'ENXIO':
    case 'ENODEV':
      return `the device node exists but no KVM driver answers; ${loadKvmHint(ctx)}`;
    default:
      return loadKvmHint(ctx);
  }
}

function loadKvmHint(ctx: RuleContext): string {
  switch (ctx.arch) {
    case 'amd64': {
      const mod = ctx.x86Family ? X86_VENDOR_MODULES[ctx.x86Family] : undefined;
      if (!mod) return 'load the KVM module for this CPU';
      const bios = ctx.flags?.has(mod.extension)
        ? ''
        : `, and enable ${mod.extension} in the BIOS/UEFI setup`;
      return `load KVM with \`modprobe ${mod.name}\`${bios}`;
    }
    case 'ppc64le':
      return 'load KVM with `modprobe kvm_hv`';
    case 'arm64':
      return 'boot the kernel at EL2 with KVM enabled (check `dmesg | grep kvm`)';
    case 's390x':
      return 'load KVM with `modprobe kvm`';
  }
}

/** `kvm-arm.mode=none` on the command line turns KVM off on arm64. */
function armCmdline(facts: CheckFacts): Finding[] {
  if (!facts.cmdline.ok) return [];
  const mode = /(?:^|\s)kvm-arm\.mode=(\S+)/.exec(facts.cmdline.value)?.[1];
  if (mode === 'none') {
    return [
      fail(
        'kvm.arm-mode',
        'the kernel command line turns KVM off (kvm-arm.mode=none)',
        'remove kvm-arm.mode=none from the kernel command line and reboot',
      ),
    ];
  }
  return [pass('kvm.arm-mode', `KVM enabled on the kernel command line (kvm-arm.mode=${mode ?? 'default'})`)];
}

/**
 * Observation: everything the rules need, read once through a `HostFacts` reader into plain data
 * (`CheckFacts`). Rules never touch the host; tests point the reader at a fixture tree.
 */
import { normaliseArch } from './arch.js';
import { ARCH_MODULES, PARAM_REQUIREMENTS } from './requirements.js';
import type { Arch, KvmProbeResult, Read, ReleaseFetch } from './types.js';

/** The one door to the host. Paths are absolute host paths; implementations may re-root them. */
export interface HostFacts {
  /** Where the files come from, for messages: `/` or a fixture directory. */
  readonly root: string;
  /** A file's text (gzip-compressed files are inflated), or the errno code of the failure. */
  readText(path: string): Read<string>;
  listDir(path: string): Read<string[]>;
  exists(path: string): boolean;
  /** Effective user id; undefined where the platform has none. */
  euid(): number | undefined;
  /** `uname -m` spelling, used when /proc/sys/kernel/arch is missing. */
  machine(): string;
  /** Opens the KVM device and creates a VM; never throws. */
  kvmProbe(device: string, arch: Arch): Promise<KvmProbeResult>;
  /** GitHub releases, with a deadline; never throws. */
  fetchReleases(url: string, timeoutMs: number): Promise<ReleaseFetch>;
}

export const PATHS = {
  cpuinfo: '/proc/cpuinfo',
  modules: '/proc/modules',
  sysModule: '/sys/module',
  kernelArch: '/proc/sys/kernel/arch',
  osRelease: '/proc/sys/kernel/osrelease',
  cmdline: '/proc/cmdline',
  configGz: '/proc/config.gz',
  smtControl: '/sys/devices/system/cpu/smt/control',
  kvmDevice: '/dev/kvm',
} as const;

export const KATA_RELEASES_URL = 'https://api.github.com/repos/kata-containers/kata-containers/releases';
/** The release check must never hold up the verdict; an unreachable network answers within this. */
export const RELEASE_CHECK_TIMEOUT_MS = 3000;

export interface ModuleFacts {
  /** Names in /proc/modules; undefined when the file is missing (a kernel without module support). */
  readonly loaded?: ReadonlySet<string>;
  /** Entries of /sys/module (loaded modules and built-in ones that have parameters). */
  readonly sysfs?: ReadonlySet<string>;
  /** modules.builtin of the running kernel. */
  readonly builtin?: ReadonlySet<string>;
  /** Modules installed for the running kernel (modules.dep), which `modprobe` could load. */
  readonly onDisk?: ReadonlySet<string>;
  /** The running kernel's configuration (`KVM_INTEL` → `y`, `m`), from /proc/config.gz or /boot. */
  readonly kernelConfig?: ReadonlyMap<string, string>;
}

export interface CheckFacts {
  readonly machine: string;
  readonly arch: Arch | undefined;
  readonly euid: number | undefined;
  readonly cpuinfo: Read<string>;
  readonly cmdline: Read<string>;
  readonly kernelRelease: string | undefined;
  readonly modules: ModuleFacts;
  /** Module parameters, keyed `module.param`. */
  readonly params: ReadonlyMap<string, Read<string>>;
  /** Whether each device node of interest exists. */
  readonly devices: ReadonlyMap<string, boolean>;
  readonly smtControl: Read<string>;
  readonly kvmProbe: KvmProbeResult;
  readonly release: ReleaseFetch;
}

export interface GatherOptions {
  /** False for `remote`: nothing local to probe. */
  readonly probeKvm: boolean;
  /** The reason the release check is skipped (flag or environment), or undefined to run it. */
  readonly skipReleaseCheck?: string;
  readonly releasesUrl?: string;
  readonly releaseTimeoutMs?: number;
}

/** Reads every fact the rules may ask for. The network fetch and the KVM probe run concurrently. */
export async function gatherFacts(host: HostFacts, options: GatherOptions): Promise<CheckFacts> {
  const kernelArch = host.readText(PATHS.kernelArch);
  const machine = kernelArch.ok ? kernelArch.value.trim() : host.machine();
  const arch = normaliseArch(machine);
  const euid = host.euid();
  const osRelease = host.readText(PATHS.osRelease);
  const kernelRelease = osRelease.ok ? osRelease.value.trim() : undefined;

  const release = options.skipReleaseCheck
    ? Promise.resolve<ReleaseFetch>({ kind: 'skipped', reason: options.skipReleaseCheck })
    : host.fetchReleases(
        options.releasesUrl ?? KATA_RELEASES_URL,
        options.releaseTimeoutMs ?? RELEASE_CHECK_TIMEOUT_MS,
      );
  const probe =
    arch === undefined
      ? Promise.resolve<KvmProbeResult>({ kind: 'not-run', reason: `no KVM probe for ${machine}` })
      : options.probeKvm
        ? host.kvmProbe(PATHS.kvmDevice, arch).then((r) => unprivileged(r, euid))
        : Promise.resolve<KvmProbeResult>({ kind: 'not-run', reason: 'the remote hypervisor needs no KVM' });

  return {
    machine,
    arch,
    euid,
    cpuinfo: host.readText(PATHS.cpuinfo),
    cmdline: host.readText(PATHS.cmdline),
    kernelRelease,
    modules: readModules(host, kernelRelease),
    params: readParams(host),
    devices: readDevices(host, arch),
    smtControl: host.readText(PATHS.smtControl),
    kvmProbe: await probe,
    release: await release,
  };
}

/** A non-root user without access to /dev/kvm says nothing about the host: the probe did not run. */
function unprivileged(result: KvmProbeResult, euid: number | undefined): KvmProbeResult {
  if (
    result.kind === 'open-failed' &&
    euid !== 0 &&
    (result.errno === 'EACCES' || result.errno === 'EPERM')
  ) {
    return {
      kind: 'not-run',
      reason: `uid ${euid ?? '?'} may not open ${PATHS.kvmDevice} (${result.errno})`,
    };
  }
  return result;
}

export function readModules(host: HostFacts, release: string | undefined): ModuleFacts {
  const facts: {
    loaded?: Set<string>;
    sysfs?: Set<string>;
    builtin?: Set<string>;
    onDisk?: Set<string>;
    kernelConfig?: Map<string, string>;
  } = {};
  const procModules = host.readText(PATHS.modules);
  if (procModules.ok) facts.loaded = new Set(parseProcModules(procModules.value));
  const sysfs = host.listDir(PATHS.sysModule);
  if (sysfs.ok) facts.sysfs = new Set(sysfs.value.map(moduleName));
  if (release !== undefined) {
    const builtin = host.readText(`/lib/modules/${release}/modules.builtin`);
    if (builtin.ok) facts.builtin = new Set(parseModuleList(builtin.value));
    const dep = host.readText(`/lib/modules/${release}/modules.dep`);
    if (dep.ok) facts.onDisk = new Set(parseModuleList(dep.value.replace(/:.*$/gm, '')));
  }
  const config = host.readText(PATHS.configGz);
  const bootConfig = config.ok || release === undefined ? config : host.readText(`/boot/config-${release}`);
  if (bootConfig.ok) facts.kernelConfig = parseKernelConfig(bootConfig.value);
  return facts;
}

function readParams(host: HostFacts): Map<string, Read<string>> {
  const params = new Map<string, Read<string>>();
  for (const p of PARAM_REQUIREMENTS) {
    params.set(
      `${p.module}.${p.param}`,
      host.readText(`${PATHS.sysModule}/${p.module}/parameters/${p.param}`),
    );
  }
  return params;
}

function readDevices(host: HostFacts, arch: Arch | undefined): Map<string, boolean> {
  const devices = new Map<string, boolean>([[PATHS.kvmDevice, host.exists(PATHS.kvmDevice)]]);
  for (const m of arch === undefined ? [] : ARCH_MODULES[arch]) {
    if (m.device !== undefined) devices.set(m.device, host.exists(m.device));
  }
  return devices;
}

/** Module names use `_`; file names and modprobe also accept `-`. */
function moduleName(name: string): string {
  return name.replace(/-/g, '_');
}

/** First column of /proc/modules. */
export function parseProcModules(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.length > 0)
    .map(moduleName);
}

/** Module names from modules.builtin or modules.dep paths (`kernel/drivers/vhost/vhost_net.ko.zst`). */
export function parseModuleList(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .map((l) => moduleName((l.split('/').pop() ?? l).replace(/\.ko(\..*)?$/, '')));
}

/** `CONFIG_X=y` lines and `# CONFIG_X is not set` lines, keyed without the prefix. */
export function parseKernelConfig(text: string): Map<string, string> {
  const config = new Map<string, string>();
  for (const line of text.split('\n')) {
    const set = /^CONFIG_(\w+)=(.*)$/.exec(line);
    if (set?.[1] !== undefined) config.set(set[1], set[2] ?? '');
    const unset = /^# CONFIG_(\w+) is not set$/.exec(line);
    if (unset?.[1] !== undefined) config.set(unset[1], 'n');
  }
  return config;
}

/**
 * The authoritative KVM test: open the device, ask its API version, create (and close) a VM. This is what
 * every hypervisor does first, so it answers "can this host run VMs right now" regardless of what
 * /proc/cpuinfo claims. ioctl is reached through koffi (libc FFI); open and close go through node:fs.
 * Creating a VM allocates nothing that outlives the file descriptor, so the probe has no side effects.
 */
import { closeSync, constants, openSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { errnoCode } from '../errors/index.js';
import { KVM_API_VERSION, KVM_CAP_ARM_VM_IPA_SIZE, kvmIoctls } from './arch.js';
import type { Arch, KvmProbeResult } from './types.js';

type Ioctl = (fd: number, request: number, arg: number) => number;
export interface Libc {
  readonly ioctl: Ioctl;
  /** errno of the last failed call in this thread. */
  readonly errno: () => number;
}

/** Loads libc's ioctl through koffi; a string says why it could not (no koffi, no glibc, not Linux). */
export async function loadLibc(platform: string = process.platform): Promise<Libc | string> {
  if (platform !== 'linux') return `KVM exists only on Linux (this is ${platform})`;
  let koffi: (typeof import('koffi'))['default'];
  try {
    koffi = (await import('koffi')).default;
  } catch (error) {
    return `the koffi FFI module is not available: ${error instanceof Error ? error.message : String(error)}`;
  }
  const failures: string[] = [];
  for (const name of ['libc.so.6', 'libc.so']) {
    try {
      const lib = koffi.load(name);
      const variadic = lib.func('int ioctl(int fd, unsigned long request, ...)');
      return {
        ioctl: (fd, request, arg) => variadic(fd, request, 'unsigned long', arg) as number,
        errno: () => koffi.errno(),
      };
    } catch (error) {
      failures.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return `cannot load the C library (${failures.join('; ')})`;
}

/** Runs the probe with the given libc (tests pass a fake). */
export function probeWith(libc: Libc, device: string, arch: Arch): KvmProbeResult {
  const io = kvmIoctls(arch);
  let fd: number;
  try {
    // libuv adds O_CLOEXEC to every open.
    fd = openSync(device, constants.O_RDWR);
  } catch (error) {
    return { kind: 'open-failed', errno: errnoCode(error) ?? String(error) };
  }
  try {
    const apiVersion = libc.ioctl(fd, io.getApiVersion, 0);
    if (apiVersion < 0) return { kind: 'api-version-failed', errno: errnoName(libc.errno()) };
    if (apiVersion !== KVM_API_VERSION) return { kind: 'api-version-mismatch', apiVersion };
    // The argument is the machine type; 0 is the default everywhere (on arm64: a 40-bit IPA space).
    const vmFd = libc.ioctl(fd, io.createVm, 0);
    if (vmFd < 0) return { kind: 'create-vm-failed', apiVersion, errno: errnoName(libc.errno()) };
    closeSync(vmFd);
    if (arch !== 'arm64') return { kind: 'ok', apiVersion };
    const ipa = libc.ioctl(fd, io.checkExtension, KVM_CAP_ARM_VM_IPA_SIZE);
    return ipa > 0 ? { kind: 'ok', apiVersion, ipaLimitBits: ipa } : { kind: 'ok', apiVersion };
  } finally {
    closeSync(fd);
  }
}

/** Runs the probe against the real device. */
export async function probeKvm(device: string, arch: Arch): Promise<KvmProbeResult> {
  const libc = await loadLibc();
  if (typeof libc === 'string') return { kind: 'not-run', reason: libc };
  return probeWith(libc, device, arch);
}

const ERRNO_NAMES = new Map<number, string>(
  Object.entries(osConstants.errno).map(([name, value]) => [value, name] as const),
);

/** `16` → `EBUSY`; unknown numbers stay visible as `errno 1234`. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
}

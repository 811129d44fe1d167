/**
 * The built kata-deploy CLI (bin/kata-deploy.js, bundled by `npm run build`) run against the sandbox node
 * with the flags and environment a DaemonSet would give it, reporting in JSON (the node says where it is and
 * how: a pod of the systemd bed, or the process supervisor's host root).
 */
import type { SnapshotterOutcome } from '../src/lifecycle/snapshotters/outcome.js';
import type { SandboxNode } from './node.js';

const ARCH_SUFFIX: Partial<Record<string, string>> = {
  x64: 'X86_64',
  arm64: 'AARCH64',
  s390x: 'S390X',
  ppc64: 'PPC64LE',
};
const SHIMS = 'qemu qemu-runtime-rs clh';

/** The parts of `install|cleanup --json` the sandbox reads. */
export interface LifecycleJson {
  readonly applied?: number;
  readonly snapshotters?: readonly SnapshotterOutcome[];
  readonly error?: { readonly message: string };
}

export interface CliRun {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed; undefined when it was not JSON (a crash). */
  readonly result: LifecycleJson | undefined;
}

export interface CliOptions {
  readonly node: SandboxNode;
  readonly payloadDir: string;
  /** EXPERIMENTAL_SETUP_SNAPSHOTTER; undefined runs without a snapshotter hook. */
  readonly snapshotter: 'nydus' | undefined;
}

export function lifecycleArgs(action: 'install' | 'cleanup', o: CliOptions): string[] {
  return [
    action,
    ...o.node.nodeFlags,
    ...(action === 'install' ? ['--artifacts-dir', o.payloadDir] : []),
    '--json',
  ];
}

export function lifecycleEnv(o: CliOptions): Record<string, string> {
  const arch = ARCH_SUFFIX[process.arch] ?? 'X86_64';
  return {
    PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin',
    NODE_NAME: 'sandbox-node',
    [`SHIMS_${arch}`]: SHIMS,
    [`DEFAULT_SHIM_${arch}`]: 'qemu',
    ...(o.snapshotter ? { EXPERIMENTAL_SETUP_SNAPSHOTTER: o.snapshotter } : {}),
  };
}

export async function runLifecycleCli(action: 'install' | 'cleanup', o: CliOptions): Promise<CliRun> {
  const r = await o.node.cli(lifecycleArgs(action, o), lifecycleEnv(o));
  let result: LifecycleJson | undefined;
  try {
    result = JSON.parse(r.stdout) as LifecycleJson;
  } catch {
    result = undefined;
  }
  return {
    exitCode: r.code,
    stdout: r.stdout,
    stderr: r.signal ? `${r.stderr}killed by ${r.signal}` : r.stderr,
    result,
  };
}

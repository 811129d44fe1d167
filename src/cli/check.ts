import { Option, type Command } from 'commander';
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { HYPERVISORS, type Hypervisor } from '../check/types.js';
import { errorMessage, UsageError } from '../errors/index.js';
import { emitResult } from '../output/emit.js';
import { exec } from '../host/exec.js';
import { globalOptions } from './context.js';

/** `<program> --version` with a deadline: the one program the check runs (mkfs.erofs, when erofs is asked). */
async function runVersionOf(
  file: string,
): Promise<{ ok: true; output: string } | { ok: false; reason: string }> {
  try {
    const r = await exec(file, ['--version'], { timeoutMs: 10_000 });
    return r.code === 0
      ? { ok: true, output: `${r.stdout}${r.stderr}` }
      : { ok: false, reason: `exit ${r.code ?? r.signal}: ${r.stderr.trim().split('\n')[0] ?? ''}` };
  } catch (error) {
    return { ok: false, reason: errorMessage(error) };
  }
}

interface CheckFlags {
  verbose?: boolean;
  networkChecks: boolean;
  includeAllReleases?: boolean;
  hypervisor?: Hypervisor;
  hostRoot?: string;
}

export function registerCheckCommand(program: Command): void {
  program
    .command('check')
    .alias('kata-check')
    .description('check that this host can run Kata Containers (CPU, kernel modules, KVM, newer releases)')
    .option('-v, --verbose', 'print every check, not only warnings and failures')
    .option('-n, --no-network-checks', 'skip the release check (also: KATA_CHECK_NO_NETWORK=<non-empty>)')
    .option('--include-all-releases', 'count pre-releases when looking for a newer release')
    .addOption(
      new Option(
        '--hypervisor <type>',
        'check for this hypervisor only (default: every one kata-deploy ships)',
      ).choices(HYPERVISORS),
    )
    .option(
      '--host-root <dir>',
      'read /proc, /sys, /dev and /lib/modules below <dir> (fixture trees; see docs/check.md)',
    )
    .addHelpText(
      'after',
      '\nExit status: 0 capable, 1 not capable (or cannot tell), 2 usage error.\n' +
        'With EXPERIMENTAL_SETUP_SNAPSHOTTER=erofs it also checks what the erofs snapshotter needs\n' +
        '(EROFS_DMVERITY, EROFS_FSVERITY as for install; see docs/check.md).\n' +
        'Examples:\n  kata-deploy check --verbose\n  kata-deploy check --hypervisor qemu --no-network-checks --json',
    )
    .action(async (flags: CheckFlags, command: Command) => {
      const g = globalOptions(command);
      // The check's modules (and koffi for the KVM probe) load only when the check runs.
      const { fixtureHostFacts, renderReport, runCheck, systemHostFacts, erofsWantsFromEnv } =
        await import('../check/index.js');
      const erofs = erofsWantsFromEnv(process.env);
      const root = flags.hostRoot === undefined ? '/' : checkedRoot(flags.hostRoot);
      // `--host-root /` is the real host, with the real KVM probe and network.
      const host = root === '/' ? systemHostFacts() : fixtureHostFacts(root);
      const envSkip = process.env['KATA_CHECK_NO_NETWORK'];
      const skipReleaseCheck = !flags.networkChecks
        ? '--no-network-checks'
        : envSkip
          ? 'KATA_CHECK_NO_NETWORK is set'
          : undefined;
      const report = await runCheck(host, {
        ...(flags.hypervisor === undefined ? {} : { hypervisor: flags.hypervisor }),
        ...(skipReleaseCheck === undefined ? {} : { skipReleaseCheck }),
        includePrereleases: flags.includeAllReleases === true,
        ...(erofs === undefined ? {} : { erofs: { ...erofs, runVersion: runVersionOf } }),
      });
      emitResult(g.json, report, (r) => renderReport(r, flags.verbose === true));
      if (!report.capable) process.exitCode = 1;
    });
}

function checkedRoot(dir: string): string {
  const root = resolve(dir);
  let isDir = false;
  try {
    isDir = statSync(root).isDirectory();
  } catch {
    isDir = false;
  }
  if (!isDir) {
    throw new UsageError(`--host-root: ${root} is not a directory`, {
      input: '--host-root',
      hint: 'point it at a tree laid out like / (proc/cpuinfo, sys/module, dev/kvm)',
    });
  }
  return root;
}

/**
 * `kata-deploy install | cleanup | reset`: flags and environment → Settings, then observe → plan → apply on the
 * node (or print the plan with --dry-run).
 */
import { Option, type Command } from 'commander';
import type { LifecycleAction } from '../lifecycle/index.js';
// Only the constants here: the settings schema, the host layer and the gRPC verifier load when a command runs.
import {
  RESTART_TIMEOUT_DEFAULT_MS,
  RESTART_TIMEOUT_MIN_MS,
  RUNTIMES,
  SERVICE_MANAGERS,
  SNAPSHOTTER_DATA_POLICIES,
} from '../settings/types.js';
import { durationForms, formatDuration } from '../settings/parse.js';
import { globalOptions } from './context.js';
import { addDaemonSetOptions, type DaemonSetCliFlags } from './daemonset.js';

export interface LifecycleFlags {
  hostRoot?: string;
  artifactsDir?: string;
  containerdSocket?: string;
  containerdBin?: string;
  runtime?: string;
  serviceManager?: string;
  restartTimeout?: string;
  snapshotterDataPolicy?: string;
  customConfigsDir?: string;
  dryRun?: boolean;
}

const DESCRIPTIONS: Record<LifecycleAction, string> = {
  install:
    'install Kata Containers on this node: artifacts, runtime handlers in containerd, restart and verify',
  cleanup: 'remove Kata Containers from this node and give containerd back its own configuration',
  reset: 'restart the container runtime (and the kubelet, where it runs) without changing any file',
};

export function registerLifecycleCommands(program: Command): void {
  for (const action of ['install', 'cleanup', 'reset'] as const) {
    const command = program
      .command(action)
      .description(DESCRIPTIONS[action])
      .option('--host-root <dir>', "where the node's root file system is mounted (default: /)")
      .option('--containerd-socket <path>', "containerd's socket as a node path (default: the runtime's own)")
      .option(
        '--containerd-bin <path>',
        'containerd binary for --version and config dump (default: found on the host)',
      )
      .addOption(new Option('--runtime <name>', 'the runtime flavour (default: detected)').choices(RUNTIMES))
      .addOption(
        new Option('--service-manager <kind>', 'how services are restarted (default: systemd)').choices(
          SERVICE_MANAGERS,
        ),
      )
      .option(
        '--restart-timeout <duration>',
        `how long containerd may take to answer after a restart; ${durationForms(RESTART_TIMEOUT_MIN_MS)} (default: ${formatDuration(RESTART_TIMEOUT_DEFAULT_MS)})`,
      )
      .option('--dry-run', 'print the plan and change nothing');
    if (action !== 'reset') {
      command.addOption(
        new Option(
          '--snapshotter-data-policy <policy>',
          "a snapshotter's data dir on upgrade and cleanup: wipe it only once containerd holds no record of it, or never (default: clean-if-safe; env SNAPSHOTTER_DATA_POLICY)",
        ).choices(SNAPSHOTTER_DATA_POLICIES),
      );
    }
    if (action !== 'reset') {
      command.option(
        '--custom-configs-dir <dir>',
        "the operator's custom-runtimes.list and dropin-<handler|shim>.toml files (default: CUSTOM_CONFIGS_DIR, else /custom-configs)",
      );
    }
    if (action === 'install') {
      command.option(
        '--artifacts-dir <dir>',
        'the Kata payload: shim-components.json with tarballs/*.tar.zst, or an opt/kata/ tree (default: /opt/kata-artifacts)',
      );
      addDaemonSetOptions(command);
    }
    command.addHelpText(
      'after',
      `\nSettings come from the environment with upstream kata-deploy's names (NODE_NAME, SHIMS_<ARCH>, …);\nsee docs/configuration.md. Example:\n  NODE_NAME=$(hostname) SHIMS_X86_64="qemu clh" kata-deploy ${action} --dry-run`,
    );
    command.action(async (flags: LifecycleFlags & DaemonSetCliFlags, cmd: Command) => {
      if (flags.daemonset === true || flags.daemonsetStep !== undefined) {
        const { runDaemonSetCommand } = await import('./daemonset-run.js');
        await runDaemonSetCommand(flags, globalOptions(cmd));
        return;
      }
      if (flags.kubeconfig !== undefined || flags.terminationLog !== undefined) {
        const { UsageError } = await import('../errors/index.js');
        throw new UsageError(
          `${flags.kubeconfig !== undefined ? '--kubeconfig' : '--termination-log'} is for --daemonset only`,
          {
            input: flags.kubeconfig !== undefined ? '--kubeconfig' : '--termination-log',
            hint: 'add --daemonset, or leave the flag out',
          },
        );
      }
      const { runLifecycleCommand } = await import('./lifecycle-run.js');
      await runLifecycleCommand(action, flags, globalOptions(cmd));
    });
  }
}

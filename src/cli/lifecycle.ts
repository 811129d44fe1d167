/**
 * `kata-deploy install | cleanup | reset`: flags and environment → Settings, then observe → plan → apply on the
 * node (or print the plan with --dry-run).
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../errors/index.js';
import { createHost } from '../host/index.js';
import {
  describeOutcome,
  describeStep,
  runLifecycle,
  type LifecycleAction,
  type RunResult,
} from '../lifecycle/index.js';
import { SERVICE_SPEC_DIR } from '../names/index.js';
import { emitResult } from '../output/emit.js';
import {
  archFromNode,
  loadSettings,
  RUNTIMES,
  SERVICE_MANAGERS,
  SNAPSHOTTER_DATA_POLICIES,
} from '../settings/index.js';
import { globalOptions } from './context.js';

interface LifecycleFlags {
  hostRoot?: string;
  artifactsDir?: string;
  containerdSocket?: string;
  containerdBin?: string;
  runtime?: string;
  serviceManager?: string;
  restartTimeout?: string;
  snapshotterDataPolicy?: string;
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
        '--restart-timeout <ms>',
        'how long containerd may take to answer after a restart (default: 60000)',
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
    if (action === 'install') {
      command.option(
        '--artifacts-dir <dir>',
        'the Kata payload, holding opt/kata/ (default: /opt/kata-artifacts)',
      );
    }
    command.addHelpText(
      'after',
      `\nSettings come from the environment with upstream kata-deploy's names (NODE_NAME, SHIMS_<ARCH>, …);\nsee docs/configuration.md. Example:\n  NODE_NAME=$(hostname) SHIMS_X86_64="qemu clh" kata-deploy ${action} --dry-run`,
    );
    command.action(async (flags: LifecycleFlags, cmd: Command) => {
      const { json, log } = globalOptions(cmd);
      const settings = loadSettings({ env: process.env, flags, arch: archFromNode(process.arch) });
      if (!settings.dryRun && process.geteuid?.() !== 0) {
        throw new UsageError(`kata-deploy ${action} must run as root`, {
          hint: 'run it as root, or add --dry-run',
        });
      }
      const host = createHost({
        root: settings.hostRoot,
        serviceManager: settings.serviceManager,
        serviceSpecDir: SERVICE_SPEC_DIR,
      });
      const result = await runLifecycle(action, { settings, host, log });
      emitResult(json, result, renderResult);
    });
  }
}

function renderResult(r: RunResult): string {
  if (r.skipped !== undefined) return `${r.action}: skipped (${r.skipped})`;
  const head = `${r.action} on ${r.runtime} (containerd ${r.containerd}), ${r.installDir}, handlers ${r.handlers.join(', ')}`;
  const steps = r.steps.map((s, i) => `  ${String(i + 1).padStart(3)}. ${describeStep(s)}`).join('\n');
  if (r.dryRun) return `${head}\nplan (${r.steps.length} steps, nothing changed):\n${steps}`;
  const data = (r.snapshotters ?? []).map((o) => `  ${describeOutcome(o)}`);
  return `${head}\napplied ${r.applied} steps:\n${steps}${data.length > 0 ? `\nsnapshotter data:\n${data.join('\n')}` : ''}`;
}

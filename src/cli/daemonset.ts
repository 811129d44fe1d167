/**
 * The DaemonSet mode's flags on `kata-deploy install`. The mode is install's: the same settings, the same
 * plan, then the node is labelled and the process waits for SIGTERM to clean up. So it is a flag of `install`
 * (the chart runs `kata-deploy install --daemonset`), not a command of its own.
 */
import { Option, type Command } from 'commander';

export interface DaemonSetCliFlags {
  daemonset?: boolean;
  kubeconfig?: string;
  terminationLog?: string;
  daemonsetStep?: 'install' | 'cleanup';
}

export function addDaemonSetOptions(command: Command): void {
  command
    .option(
      '--daemonset',
      "run as the DaemonSet's container: serve /healthz and /readyz (HEALTH_PORT), install, label the node, wait for SIGTERM, then clean up unless the DaemonSet still selects the node (docs/daemonset.md)",
    )
    .option(
      '--kubeconfig <file>',
      "with --daemonset: reach the Kubernetes API with this kubeconfig instead of the pod's service account (env KUBECONFIG)",
    )
    .option(
      '--termination-log <path>',
      "with --daemonset: where a failure's message goes for the pod's status (default: /dev/termination-log, written only if it exists)",
    )
    .addOption(
      new Option('--daemonset-step <step>', 'internal: run one worker step')
        .choices(['install', 'cleanup'])
        .hideHelp(),
    );
}

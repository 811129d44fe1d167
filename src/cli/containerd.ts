import type { Command } from 'commander';
import type { ContainerdInfo } from '../containerd/info.js';
import { emitResult } from '../output/emit.js';
import { durationHelp, globalOptions, parseDuration } from './context.js';

export const DEFAULT_CONTAINERD_SOCKET = '/run/containerd/containerd.sock';

export function registerContainerdCommands(program: Command): void {
  const containerd = program.command('containerd').description('inspect a containerd node');
  containerd
    .command('info')
    .description(
      'server version, snapshotter plugins (and whether proxy plugins answer), namespaces and their contents',
    )
    .option('--containerd-socket <path>', "containerd's gRPC socket", DEFAULT_CONTAINERD_SOCKET)
    .option(
      '--timeout <duration>',
      `deadline of each API call; ${durationHelp()}`,
      parseDuration('--timeout'),
      5000,
    )
    .addHelpText(
      'after',
      '\nExample:\n  kata-deploy containerd info --containerd-socket /run/containerd/containerd.sock --json',
    )
    .action(async (opts: { containerdSocket: string; timeout: number }, command: Command) => {
      const g = globalOptions(command);
      const [{ ContainerdClient }, { gatherContainerdInfo }] = await Promise.all([
        import('../containerd/api/index.js'),
        import('../containerd/info.js'),
      ]);
      const client = await ContainerdClient.connect({
        socket: opts.containerdSocket,
        timeoutMs: opts.timeout,
      });
      try {
        emitResult(g.json, await gatherContainerdInfo(client), renderInfo);
      } finally {
        client.close();
      }
    });
}

function renderInfo(info: ContainerdInfo): string {
  const lines = [`containerd ${info.version} (pid ${info.pid}) on ${info.socket}`, 'snapshotters:'];
  for (const s of info.snapshotters) {
    const state = s.initError
      ? `not loaded: ${s.initError}`
      : s.proxy
        ? `proxy at ${s.address}, ${s.answers ? 'answers' : `does not answer: ${s.answerError}`}`
        : 'built in';
    lines.push(`  ${s.id.padEnd(12)} ${state}`);
  }
  lines.push(info.namespaces.length ? 'namespaces:' : 'namespaces: none');
  for (const n of info.namespaces) {
    const snaps = Object.entries(n.snapshots)
      .filter(([, v]) => typeof v !== 'number' || v > 0)
      .map(([k, v]) => `${k}=${typeof v === 'number' ? v : `error (${v.error})`}`)
      .join(', ');
    lines.push(
      `  ${n.name}: ${n.images} images, ${n.containers} containers, ${n.runningTasks}/${n.tasks} tasks running, snapshots: ${snaps || 'none'}`,
    );
  }
  return lines.join('\n');
}

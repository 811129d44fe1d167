import type { Command } from 'commander';
import type { ContainerdClient } from '../containerd/api/index.js';
import { ExitCode } from '../errors/index.js';
import { emitResult } from '../output/emit.js';
import { terminalProgress, noProgress } from '../output/progress.js';
import { DEFAULT_CONTAINERD_SOCKET } from './containerd.js';
import { globalOptions, parseDuration, parsePositiveInt, type GlobalOptions } from './context.js';
import { registerDoctorCommands } from './snapshots-doctor.js';

export interface ConnectionFlags {
  containerdSocket: string;
  timeout: number;
  metaDb?: string;
  hostRoot: string;
}

/** Flags shared by every `snapshots` subcommand. */
export function addConnectionFlags(command: Command): Command {
  return command
    .option('--containerd-socket <path>', "containerd's gRPC socket", DEFAULT_CONTAINERD_SOCKET)
    .option('--timeout <duration>', 'deadline of each API call', parseDuration('--timeout'), 5000)
    .option(
      '--meta-db <path>',
      "containerd's meta.db (default: the path containerd reports, under --host-root)",
    )
    .option('--host-root <dir>', "where the node's file system is mounted (/host in a pod)", '/');
}

/** Loads the gRPC client only when a command runs: `--help` and `--version` stay fast. */
export async function connect(flags: ConnectionFlags): Promise<ContainerdClient> {
  const { ContainerdClient } = await import('../containerd/api/index.js');
  return ContainerdClient.connect({ socket: flags.containerdSocket, timeoutMs: flags.timeout });
}

export async function resolveMetaDbPath(client: ContainerdClient, flags: ConnectionFlags, g: GlobalOptions) {
  if (flags.metaDb) return flags.metaDb;
  const { metaDbPathFromIntrospection } = await import('../snapshots/metadb-source.js');
  try {
    return await metaDbPathFromIntrospection(client, flags.hostRoot);
  } catch (error) {
    g.log.warn(
      `containerd did not report meta.db's path: ${error instanceof Error ? error.message : String(error)}`,
    );
    return undefined;
  }
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerSnapshotsCommands(program: Command): void {
  const snapshots = program
    .command('snapshots')
    .description("clean, diagnose and repair containerd's snapshot records for a snapshotter");

  addConnectionFlags(
    snapshots
      .command('clean')
      .description(
        'remove every containerd record of a snapshotter that no running workload needs, so its data can be wiped safely',
      )
      .requiredOption(
        '--snapshotter <name>',
        'the snapshotter whose records to remove (e.g. nydus-for-kata-tee)',
      )
      .option('--namespace <ns>', 'a namespace to clean (repeatable; default: every namespace)', collect)
      .option('--dry-run', 'print the plan: what would be removed, in order, and what would stay and why')
      .option('--concurrency <n>', 'removals in flight at once', parsePositiveInt('--concurrency'), 8),
  )
    .addHelpText(
      'after',
      `
Exit codes: 0 clean, 1 not clean or unknown (do not wipe the snapshotter's data), 2 usage or connection error.
A container with a task (running, paused, created) is never deleted: it and its chain are reported as in use.

Example:
  kata-deploy snapshots clean --snapshotter nydus-for-kata-tee --dry-run`,
    )
    .action(
      async (
        opts: ConnectionFlags & {
          snapshotter: string;
          namespace?: string[];
          dryRun?: boolean;
          concurrency: number;
        },
        command: Command,
      ) => {
        const g = globalOptions(command);
        const [{ cleanSnapshots }, { metaRecordReader }, { renderCleanResult }] = await Promise.all([
          import('../snapshots/clean.js'),
          import('../snapshots/metadb-source.js'),
          import('../snapshots/render.js'),
        ]);
        const client = await connect(opts);
        try {
          const metaDbPath = await resolveMetaDbPath(client, opts, g);
          const result = await cleanSnapshots(client, {
            snapshotter: opts.snapshotter,
            namespaces: opts.namespace,
            dryRun: opts.dryRun === true,
            concurrency: opts.concurrency,
            readMeta: metaDbPath ? metaRecordReader(metaDbPath, opts.snapshotter) : undefined,
            metaDbPath,
            log: g.log,
            progress: g.json ? noProgress : terminalProgress(),
          });
          emitResult(g.json, result, renderCleanResult);
          process.exitCode = result.clean === true ? ExitCode.ok : ExitCode.negative;
        } finally {
          client.close();
        }
      },
    );

  registerDoctorCommands(snapshots);
}

import type { Command } from 'commander';
import type { ContainerdClient } from '../containerd/api/index.js';
import { ExitCode } from '../errors/index.js';
import { emitResult } from '../output/emit.js';
import { terminalProgress, noProgress } from '../output/progress.js';
import { DEFAULT_CONTAINERD_SOCKET } from './containerd.js';
import { durationHelp, globalOptions, parseDuration, parsePositiveInt } from './context.js';
import { registerDoctorCommands } from './snapshots-doctor.js';

export interface ConnectionFlags {
  containerdSocket: string;
  timeout: number;
  metaDb?: string;
  hostRoot: string;
  containerdConfig: string;
}

/** Flags shared by every `snapshots` subcommand. */
export function addConnectionFlags(command: Command): Command {
  return command
    .option('--containerd-socket <path>', "containerd's gRPC socket", DEFAULT_CONTAINERD_SOCKET)
    .option(
      '--timeout <duration>',
      `deadline of each API call (${durationHelp()})`,
      parseDuration('--timeout'),
      5000,
    )
    .option(
      '--meta-db <path>',
      "containerd's meta.db (default: the path containerd reports, else containerd's root from --containerd-config and containerd's unit, under --host-root)",
    )
    .option(
      '--containerd-config <path>',
      "containerd's config (a node path, read under --host-root), to find meta.db and proxy snapshotters when containerd does not say",
      '/etc/containerd/config.toml',
    )
    .option('--host-root <dir>', "where the node's file system is mounted (/host in a pod)", '/');
}

/** Loads the gRPC client only when a command runs: `--help` and `--version` stay fast. */
export async function connect(flags: ConnectionFlags): Promise<ContainerdClient> {
  const { ContainerdClient } = await import('../containerd/api/index.js');
  return ContainerdClient.connect({ socket: flags.containerdSocket, timeoutMs: flags.timeout });
}

/** meta.db through the one locator: --meta-db, containerd's own answer, or containerd's root as its unit and config set it. */
export async function locateMetaDbFor(
  client: ContainerdClient | undefined,
  flags: ConnectionFlags,
  command: Command,
) {
  const { locateMetaDb } = await import('../containerd/metadb/locate.js');
  return locateMetaDb({
    flag: flags.metaDb,
    containerd: client,
    hostRoot: flags.hostRoot,
    configFile: flags.containerdConfig,
    configGiven: command.getOptionValueSource('containerdConfig') !== 'default',
  });
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
      .option('--concurrency <n>', 'removals in flight at once', parsePositiveInt('--concurrency'), 8)
      .option(
        '--deadline <duration>',
        `the whole run stops starting new rounds after this long, and the verdict says so (${durationHelp()})`,
        parseDuration('--deadline'),
        600_000,
      ),
  )
    .addHelpText(
      'after',
      `
Exit codes: 0 clean, 1 not clean or unknown (do not wipe the snapshotter's data), 2 usage or connection error.
"clean" needs evidence: the snapshotter is loaded, meta.db was read from a path that was found, and every
namespace in which meta.db holds its records was examined (a --namespace subset covers only itself).
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
          deadline: number;
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
          const metaDb = await locateMetaDbFor(client, opts, command);
          const metaDbPath = metaDb.evidence.status === 'seen' ? metaDb.path : undefined;
          if (metaDbPath === undefined) g.log.warn(`meta.db: ${metaDb.evidence.detail}`);
          const result = await cleanSnapshots(client, {
            snapshotter: opts.snapshotter,
            namespaces: opts.namespace,
            dryRun: opts.dryRun === true,
            concurrency: opts.concurrency,
            deadlineMs: opts.deadline,
            readMeta: metaDbPath ? metaRecordReader(metaDbPath, opts.snapshotter) : undefined,
            metaDbPath,
            metaDbEvidence: metaDb.evidence,
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

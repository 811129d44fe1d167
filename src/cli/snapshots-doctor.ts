import type { Command } from 'commander';
import type { ContainerdClient } from '../containerd/api/index.js';
import type { MetaDbLocation } from '../containerd/metadb/locate.js';
import { ExitCode, UsageError } from '../errors/index.js';
import type { DoctorReport } from '../snapshots/doctor.js';
import { emitResult } from '../output/emit.js';
import { globalOptions, parsePositiveInt } from './context.js';
import { addConnectionFlags, connect, locateMetaDbFor, type ConnectionFlags } from './snapshots.js';

interface DoctorFlags extends ConnectionFlags {
  snapshotter?: string;
  snapshotterSocket?: string;
  snapshotterRoot?: string;
}

/** doctor and repair read meta.db itself: without a path that was found there is nothing to examine. */
function requireMetaDb(location: MetaDbLocation): string {
  if (location.evidence.status !== 'seen' || location.path === undefined) {
    throw new UsageError(`cannot examine meta.db: ${location.evidence.detail}`, {
      input: '--meta-db',
      hint: location.evidence.hint ?? 'give --meta-db PATH',
    });
  }
  return location.path;
}

function addBackendFlags(command: Command): Command {
  return command
    .option(
      '--snapshotter-socket <path>',
      "the snapshotter's own gRPC socket (default: from containerd's introspection)",
    )
    .option(
      '--snapshotter-root <dir>',
      "the snapshotter's data directory, read when its socket does not answer (default: exports.root)",
    );
}

/** Snapshotters that have records in meta.db, when none was named. */
async function snapshottersIn(metaDbPath: string): Promise<string[]> {
  const { readMetaDb } = await import('../containerd/metadb/index.js');
  const view = await readMetaDb(metaDbPath);
  return [...new Set(view.namespaces.flatMap((ns) => [...ns.snapshotters.keys()]))].sort();
}

export function registerDoctorCommands(snapshots: Command): void {
  addBackendFlags(
    addConnectionFlags(
      snapshots
        .command('doctor')
        .description(
          'find containerd records that the snapshotter lacks (stale), snapshots no record names (orphaned) and dangling child links, and say what holds each',
        )
        .option(
          '--snapshotter <name>',
          'the snapshotter to examine (default: every snapshotter with records)',
        ),
    ),
  )
    .addHelpText(
      'after',
      `
Reads meta.db without locking it, so it works with containerd running or stopped. "healthy" needs both
meta.db (from a path that was found) and the snapshotter's own inventory (its socket, or its metadata.db
under a data directory that was found: --snapshotter-root, containerd's introspection or its config).
Exit codes: 0 healthy, 1 problems found or the snapshotter's state unknown, 2 usage error.

Example:
  kata-deploy snapshots doctor --snapshotter nydus-for-kata-tee`,
    )
    .action(async (opts: DoctorFlags, command: Command) => {
      const g = globalOptions(command);
      const [
        { readMetaDb },
        { diagnose },
        { readBackendInventory },
        { locateBackend },
        { renderDoctorReport },
      ] = await Promise.all([
        import('../containerd/metadb/index.js'),
        import('../snapshots/doctor.js'),
        import('../snapshots/backend.js'),
        import('../snapshots/locate.js'),
        import('../snapshots/render-doctor.js'),
      ]);
      let client: ContainerdClient | undefined;
      try {
        client = await connect(opts);
      } catch (error) {
        g.log.warn(
          `${error instanceof Error ? error.message : String(error)}; reading meta.db without containerd`,
        );
      }
      try {
        const location = await locateMetaDbFor(client, opts, command);
        const metaDbPath = requireMetaDb(location);
        const names = opts.snapshotter ? [opts.snapshotter] : await snapshottersIn(metaDbPath);
        const view = await readMetaDb(metaDbPath);
        const reports: DoctorReport[] = [];
        for (const name of names) {
          const backend = await readBackendInventory(await locateBackend(client, name, metaDbPath, opts));
          reports.push(diagnose(view, name, backend, location.evidence));
        }
        emitResult(g.json, opts.snapshotter ? reports[0] : reports, (r) =>
          (Array.isArray(r) ? r : [r]).map((x) => renderDoctorReport(x as DoctorReport)).join('\n'),
        );
        process.exitCode = reports.every((r) => r.healthy === true) ? ExitCode.ok : ExitCode.negative;
      } finally {
        client?.close();
      }
    });

  addBackendFlags(
    addConnectionFlags(
      snapshots
        .command('repair')
        .description(
          'remove stale records leaf first through containerd (works with the snapshotter down), then check again',
        )
        .requiredOption('--snapshotter <name>', 'the snapshotter whose records to repair')
        .option(
          '--drop-images',
          'also delete the image records whose chains are stale, so they are pulled again',
        )
        .option('--dry-run', 'print what would be removed and change nothing')
        .option('--concurrency <n>', 'removals in flight at once', parsePositiveInt('--concurrency'), 8),
    ),
  )
    .addHelpText(
      'after',
      `
Never touches the snapshotter's data or content blobs, and never deletes a container that has a task.
Removes nothing unless the snapshotter's inventory was read (its socket, or its own metadata.db under a
data directory that was found): a record is called stale only against what the snapshotter itself holds.
Exit codes: 0 repaired (or nothing to repair), 1 something remains, 2 usage or connection error.

Example:
  kata-deploy snapshots repair --snapshotter nydus-for-kata-tee --dry-run`,
    )
    .action(
      async (
        opts: DoctorFlags & {
          snapshotter: string;
          dropImages?: boolean;
          dryRun?: boolean;
          concurrency: number;
        },
        command: Command,
      ) => {
        const g = globalOptions(command);
        const [
          { repairSnapshots },
          { readBackendInventory },
          { locateBackend },
          { renderRepairResult },
          { snapshotterLoaded },
        ] = await Promise.all([
          import('../snapshots/repair.js'),
          import('../snapshots/backend.js'),
          import('../snapshots/locate.js'),
          import('../snapshots/render-doctor.js'),
          import('../snapshots/clean.js'),
        ]);
        const client = await connect(opts);
        try {
          await snapshotterLoaded(client, opts.snapshotter);
          const metaDb = await locateMetaDbFor(client, opts, command);
          const metaDbPath = requireMetaDb(metaDb);
          const location = await locateBackend(client, opts.snapshotter, metaDbPath, opts);
          const result = await repairSnapshots(client, {
            snapshotter: opts.snapshotter,
            metaDbPath,
            metaDbEvidence: metaDb.evidence,
            readBackend: () => readBackendInventory(location),
            dropImages: opts.dropImages === true,
            dryRun: opts.dryRun === true,
            concurrency: opts.concurrency,
            log: g.log,
          });
          emitResult(g.json, result, renderRepairResult);
          process.exitCode = result.repaired ? ExitCode.ok : ExitCode.negative;
        } finally {
          client.close();
        }
      },
    );
}

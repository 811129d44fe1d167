// Waiting for containerd to reach a proxy snapshotter again after the snapshotter restarted.
import type { RunResult } from './exec.js';
import type { Bed } from './types.js';
import { waitUntil } from './wait.js';

/**
 * Whether containerd reaches the snapshotter's backend now. A listing asks the backend only about records
 * that exist (an empty namespace lists fine while the backend is down), so an empty listing is followed by
 * a throwaway prepare + remove, which always goes through.
 */
async function snapshotterAnswers(bed: Bed, name: string, namespace: string): Promise<RunResult> {
  const opts = { namespace, allowFail: true, timeoutMs: 5_000 };
  const listed = await bed.ctr(['snapshots', '--snapshotter', name, 'ls'], opts);
  if (listed.code !== 0 || listed.stdout.trim().split('\n').length > 1) return listed;
  const key = `kata-bed-probe-${process.pid}-${Date.now()}`;
  const prepared = await bed.ctr(['snapshots', '--snapshotter', name, 'prepare', key], opts);
  if (prepared.code === 0) await bed.ctr(['snapshots', '--snapshotter', name, 'rm', key], opts);
  return prepared;
}

/**
 * After nydus restarts, containerd's proxy connection can sit in reconnect backoff (up to ~20 s): poll
 * through containerd until the backend answers.
 */
export async function waitForSnapshotter(
  bed: Bed,
  name: string,
  timeoutMs = 30_000,
  opts: { namespace?: string } = {},
): Promise<void> {
  let last: RunResult | undefined;
  await waitUntil(
    async () => {
      last = await snapshotterAnswers(bed, name, opts.namespace ?? 'default');
      return last.code === 0;
    },
    {
      timeoutMs,
      intervalMs: 200,
      describe: () =>
        `containerd could not reach snapshotter "${name}" within ${timeoutMs} ms: ${last?.stderr.trim() ?? 'no answer'}`,
    },
  );
}

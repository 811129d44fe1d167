/**
 * The install state file: what install found and what it wrote, so cleanup can put every file back byte for
 * byte (or, when somebody edited a file since, remove only kata-deploy's part). Written atomically before the
 * change it describes, so an interrupted run always finds a record of what it may have done.
 */
import { z } from 'zod';
import { HostError } from '../errors/index.js';
import { isNodePath } from './paths.js';

/** A node path kata-deploy may touch: absolute, without `..`, not the root itself (a corrupt state names none). */
const nodePath = z.string().refine((p) => isNodePath(p) && p.replace(/\/+/g, '/') !== '/', {
  message: 'expected an absolute node path without ".." (not /)',
});

export const fileRecordSchema = z.object({
  /** `created`: the file did not exist before kata-deploy; `existing`: it did. */
  origin: z.enum(['created', 'existing']),
  /** sha256 of the file as found (existing files). */
  originalSha256: z.string().optional(),
  /** Node path of the byte-for-byte copy of the original (existing files). */
  backupFile: nodePath
    .refine((p) => /\.kata-deploy(-[^/]+)?\.bak$/.test(p), {
      message: 'a backup file ends in .kata-deploy[-<suffix>].bak',
    })
    .optional(),
  /** sha256 of what kata-deploy last wrote. */
  writtenSha256: z.string(),
  /** What the TOML edit changed, so it can be undone on a file that was edited since (containerd/config). */
  edit: z.unknown().optional(),
});
export type FileRecord = z.infer<typeof fileRecordSchema>;

/**
 * The snapshotters an install set up and how handlers map to them, so the next install knows what it leaves
 * behind (lifecycle/snapshotters/transition.ts). Absent in states written before it was recorded.
 */
export const snapshotterRecordSchema = z.object({
  /** `EXPERIMENTAL_SETUP_SNAPSHOTTER` of that install. */
  setup: z.array(z.string()),
  /** Handler → snapshotter instance (`SNAPSHOTTER_HANDLER_MAPPING`, as written into containerd's config). */
  mapping: z.record(z.string(), z.string()),
  /** The erofs settings written, when erofs was set up. */
  erofs: z
    .object({ mode: z.string(), merge: z.string(), dmverity: z.boolean(), fsverity: z.boolean() })
    .optional(),
  /** Snapshotters no longer wanted that still serve containers' records, kept running until those are gone. */
  retained: z.array(z.string()).optional(),
});
export type SnapshotterRecord = z.infer<typeof snapshotterRecordSchema>;

export const installStateSchema = z.object({
  version: z.literal(1),
  suffix: z.string().optional(),
  installDir: nodePath,
  /** Handlers configured in containerd. */
  handlers: z.array(z.string()),
  /** Files outside the install dir that kata-deploy wrote or edited, by node path. */
  files: z.record(nodePath, fileRecordSchema),
  /** Directories outside the install dir that kata-deploy created, outermost first. */
  createdDirs: z.array(nodePath),
  snapshotters: snapshotterRecordSchema.optional(),
  /** The phase of the last run: an `installing` or `cleaning` state means that run was interrupted. */
  phase: z.enum(['installing', 'installed', 'cleaning']),
});
export type InstallState = z.infer<typeof installStateSchema>;

const HINT = 'restore it from a backup, or remove it to clean up by name only';

export function parseInstallState(text: string, path: string): InstallState {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new HostError(`the install state ${path} is not JSON`, { input: path, hint: HINT, cause: error });
  }
  const parsed = installStateSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue?.path.map(String).join('.') ?? '';
    const where = at === '' ? '' : ` at ${at.length > 120 ? `${at.slice(0, 120)}…` : at}`;
    throw new HostError(`the install state ${path} is invalid${where}: ${issue?.message ?? ''}`, {
      input: path,
      hint: HINT,
    });
  }
  return parsed.data;
}

export function formatInstallState(state: InstallState): string {
  return `${JSON.stringify(state, null, 2)}\n`;
}

/** Conversions from proto-loader's plain objects (keepCase, longs as strings, enums as names). */
import type * as T from './types.js';

export interface WireTimestamp {
  seconds?: string | number;
  nanos?: number;
}

export function toDate(ts: WireTimestamp | null | undefined): Date | undefined {
  if (!ts) return undefined;
  const seconds = Number(ts.seconds ?? 0);
  if (seconds === 0 && !ts.nanos) return undefined;
  return new Date(seconds * 1000 + Math.floor((ts.nanos ?? 0) / 1e6));
}

export const num = (v: string | number | undefined | null): number =>
  v === undefined || v === null ? 0 : Number(v);

type Wire<T> = { [K in keyof T]?: unknown };

export function snapshotInfo(w: Wire<Record<string, unknown>>): T.SnapshotInfo {
  return {
    name: String(w['name'] ?? ''),
    parent: String(w['parent'] ?? ''),
    kind: (w['kind'] as T.SnapshotKind) ?? 'UNKNOWN',
    createdAt: toDate(w['created_at'] as WireTimestamp),
    updatedAt: toDate(w['updated_at'] as WireTimestamp),
    labels: (w['labels'] as Record<string, string>) ?? {},
  };
}

export function container(w: Record<string, unknown>): T.Container {
  const runtime = w['runtime'] as { name?: string } | null;
  return {
    id: String(w['id'] ?? ''),
    labels: (w['labels'] as Record<string, string>) ?? {},
    image: String(w['image'] ?? ''),
    runtime: runtime?.name ?? '',
    snapshotter: String(w['snapshotter'] ?? ''),
    snapshotKey: String(w['snapshot_key'] ?? ''),
    createdAt: toDate(w['created_at'] as WireTimestamp),
    updatedAt: toDate(w['updated_at'] as WireTimestamp),
    sandbox: String(w['sandbox'] ?? ''),
  };
}

export function task(w: Record<string, unknown>): T.Task {
  // Tasks.List and Tasks.Get leave container_id empty and put the container id in id.
  return {
    containerId: String(w['container_id'] || w['id'] || ''),
    id: String(w['id'] ?? ''),
    pid: num(w['pid'] as number),
    status: (w['status'] as T.TaskStatus) ?? 'UNKNOWN',
    exitStatus: num(w['exit_status'] as number),
  };
}

export function descriptor(w: Record<string, unknown> | null | undefined): T.Descriptor | undefined {
  if (!w) return undefined;
  return {
    mediaType: String(w['media_type'] ?? ''),
    digest: String(w['digest'] ?? ''),
    size: num(w['size'] as string),
    annotations: (w['annotations'] as Record<string, string>) ?? {},
  };
}

export function image(w: Record<string, unknown>): T.Image {
  return {
    name: String(w['name'] ?? ''),
    labels: (w['labels'] as Record<string, string>) ?? {},
    target: descriptor(w['target'] as Record<string, unknown>),
    createdAt: toDate(w['created_at'] as WireTimestamp),
    updatedAt: toDate(w['updated_at'] as WireTimestamp),
  };
}

export function contentInfo(w: Record<string, unknown>): T.ContentInfo {
  return {
    digest: String(w['digest'] ?? ''),
    size: num(w['size'] as string),
    createdAt: toDate(w['created_at'] as WireTimestamp),
    updatedAt: toDate(w['updated_at'] as WireTimestamp),
    labels: (w['labels'] as Record<string, string>) ?? {},
  };
}

export function mount(w: Record<string, unknown>): T.Mount {
  return {
    type: String(w['type'] ?? ''),
    source: String(w['source'] ?? ''),
    target: String(w['target'] ?? ''),
    options: (w['options'] as string[]) ?? [],
  };
}

export function plugin(w: Record<string, unknown>): T.Plugin {
  const err = w['init_err'] as { code?: number; message?: string } | null;
  return {
    type: String(w['type'] ?? ''),
    id: String(w['id'] ?? ''),
    requires: (w['requires'] as string[]) ?? [],
    exports: (w['exports'] as Record<string, string>) ?? {},
    capabilities: (w['capabilities'] as string[]) ?? [],
    initError:
      err && (err.code || err.message) ? { code: err.code ?? 0, message: err.message ?? '' } : undefined,
  };
}

/**
 * CRI's StatusResponse. The handler names come from `runtime_handlers` and from the `containerd.runtimes` keys of
 * the verbose `config` info (JSON); an info blob that does not parse leaves the list alone.
 */
export function criStatus(w: Record<string, unknown>): T.CriStatus {
  const status = (w['status'] as { conditions?: Record<string, unknown>[] } | null) ?? {};
  const info = (w['info'] as Record<string, string> | null) ?? {};
  const listed = (w['runtime_handlers'] as { name?: string }[] | null) ?? [];
  const names = new Set(listed.map((h) => String(h.name ?? '')).filter((n) => n !== ''));
  const config = info['config'];
  if (config !== undefined) {
    try {
      const parsed = JSON.parse(config) as { containerd?: { runtimes?: Record<string, unknown> } } | null;
      for (const name of Object.keys(parsed?.containerd?.runtimes ?? {})) names.add(name);
    } catch {
      // Not JSON: the runtime_handlers list is all there is.
    }
  }
  return {
    handlers: [...names].sort(),
    conditions: (status.conditions ?? []).map((c) => ({
      type: String(c['type'] ?? ''),
      status: c['status'] === true,
      reason: String(c['reason'] ?? ''),
      message: String(c['message'] ?? ''),
    })),
  };
}

/**
 * What kata-deploy adds to containerd's configuration: one runtime handler table per handler, the images
 * plugin's per-handler snapshotter on config v3, and debug logging. Plugin ids depend on the config schema
 * version (v1 `cri`, v2 `io.containerd.grpc.v1.cri`, v3 and later the split CRI plugins).
 */
import type { HandlerNames } from '../../names/index.js';
import { renderTable, type TomlPath, type TomlTable } from './toml.js';
import { applyEdit, type ConfigEdit } from './edit.js';

export interface PluginPaths {
  /** The table holding `runtimes.<handler>`. */
  readonly runtimes: TomlPath;
  /** The CRI images plugin (v3 and later), where `runtime_platforms` lives. */
  readonly images: TomlPath | undefined;
  /** Where `disable_snapshot_annotations` lives for this schema. */
  readonly snapshotAnnotations: TomlPath | undefined;
}

export function pluginPaths(configVersion: number): PluginPaths {
  if (configVersion >= 3) {
    return {
      runtimes: ['plugins', 'io.containerd.cri.v1.runtime', 'containerd', 'runtimes'],
      images: ['plugins', 'io.containerd.cri.v1.images'],
      snapshotAnnotations: ['plugins', 'io.containerd.cri.v1.images'],
    };
  }
  if (configVersion === 2) {
    return {
      runtimes: ['plugins', 'io.containerd.grpc.v1.cri', 'containerd', 'runtimes'],
      images: undefined,
      snapshotAnnotations: ['plugins', 'io.containerd.grpc.v1.cri', 'containerd'],
    };
  }
  return {
    runtimes: ['plugins', 'cri', 'containerd', 'runtimes'],
    images: undefined,
    snapshotAnnotations: undefined,
  };
}

/** containerd's erofs plugins (2.1 and later) and the diff service that picks the differ. */
export const EROFS_PLUGINS = {
  snapshotter: ['plugins', 'io.containerd.snapshotter.v1.erofs'],
  differ: ['plugins', 'io.containerd.differ.v1.erofs'],
  diffService: ['plugins', 'io.containerd.service.v1.diff-service'],
} as const satisfies Record<string, TomlPath>;

export function handlerTable(h: HandlerNames): TomlTable {
  const table: TomlTable = {
    runtime_type: h.runtimeType,
    runtime_path: h.runtimePath,
    privileged_without_host_devices: true,
    pod_annotations: ['io.katacontainers.*'],
    container_annotations: ['io.kubernetes.container.terminationMessage*'],
  };
  if (h.snapshotter !== undefined) table['snapshotter'] = h.snapshotter;
  table['options'] = { ConfigPath: h.configFile };
  return table;
}

export interface KataEditInput {
  readonly configVersion: number;
  readonly handlers: readonly HandlerNames[];
  readonly debug: boolean;
  /** Contributions of snapshotter hooks (proxy plugins and the like), merged in. */
  readonly extra?: readonly ConfigEdit[];
}

export function kataConfigEdit(input: KataEditInput): ConfigEdit {
  const paths = pluginPaths(input.configVersion);
  const tables: { path: TomlPath; body: TomlTable }[] = input.handlers.map((h) => ({
    path: [...paths.runtimes, h.handler],
    body: handlerTable(h),
  }));
  if (paths.images !== undefined) {
    for (const h of input.handlers) {
      if (h.snapshotter === undefined) continue;
      tables.push({
        path: [...paths.images, 'runtime_platforms', h.handler],
        body: { snapshotter: h.snapshotter },
      });
    }
  }
  const values = input.debug ? [{ path: ['debug', 'level'], value: 'debug' }] : [];
  const extra = input.extra ?? [];
  return {
    tables: [...tables, ...extra.flatMap((e) => e.tables)],
    values: [...values, ...extra.flatMap((e) => e.values)],
    arrayEntries: extra.flatMap((e) => e.arrayEntries),
  };
}

export const DROP_IN_HEADER =
  '# Written by kata-deploy: the Kata Containers runtime handlers.\n' +
  '# `kata-deploy cleanup` removes this file; changes made here are lost on the next install.\n\n';

/** A drop-in wholly owned by kata-deploy: header comment, `version`, then the edit's values and tables. */
export function renderDropIn(configVersion: number, edit: ConfigEdit): string {
  const body = applyEdit(
    '',
    {
      tables: edit.tables,
      values: [{ path: ['version'], value: configVersion }, ...edit.values],
      arrayEntries: [],
    },
    'drop-in',
  ).text;
  return `${DROP_IN_HEADER}${body}`;
}

/** The handler tables alone, for `--dry-run` output and logs. */
export function describeHandlers(configVersion: number, handlers: readonly HandlerNames[]): string {
  const paths = pluginPaths(configVersion);
  return handlers.map((h) => renderTable([...paths.runtimes, h.handler], handlerTable(h))).join('\n');
}

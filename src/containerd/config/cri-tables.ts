/**
 * Configurations that would break CRI on containerd 1.x, refused before anything is written.
 *
 * containerd 1.x merges the files it imports plugin by plugin: a file's `[plugins."io.containerd.grpc.v1.cri"]`
 * (or v1 `[plugins.cri]`) replaces the whole table an earlier file defined, and a table's `runtimes` replaces
 * the built-in ones (`runc`). Seen on the bed with `containerd --config X config dump`: on 1.6.20 and 1.7.24 a
 * drop-in holding only `runtimes.kata-qemu` leaves the main file's `runtimes.runc` and settings out of the dump,
 * and the CRI plugin then fails to load ("no corresponding runtime configured … default_runtime_name = "runc"");
 * 2.1.9 merges key by key and keeps both. So on 1.x:
 * - kata-deploy's own drop-in (k3s/rke2 `config.toml.d`) would wipe the CRI table of the rendered config;
 * - an operator's imported file that holds the CRI table overrides kata-deploy's edit of the main file, and
 *   every install would fail its check.
 * k0s merges CRI drop-ins into its own configuration itself, so none of this applies there.
 */
import { UsageError } from '../../errors/index.js';
import type { Names } from '../../names/index.js';
import type { ConfigLayout } from './layout.js';
import { getAt, parseToml } from './toml.js';
import { formatVersion, type ContainerdVersion } from './version.js';

/** The CRI plugin's table in config v2 and v1. */
const CRI_TABLES = [
  ['plugins', 'io.containerd.grpc.v1.cri'],
  ['plugins', 'cri'],
];

/** The CRI plugin table a file defines (its TOML name), if any; an unparsable file defines none here. */
function criTableOf(text: string, path: string): string | undefined {
  let doc;
  try {
    doc = parseToml(text, path);
  } catch {
    return undefined; // containerd refuses the file itself; the restart's check reports that.
  }
  const found = CRI_TABLES.find((t) => getAt(doc, t) !== undefined);
  return found === undefined ? undefined : `[plugins."${found[1]}"]`;
}

export interface CriTableFacts {
  readonly containerdVersion: ContainerdVersion;
  /** Text of the main config; undefined when missing. */
  readonly mainConfig: string | undefined;
  /** Every file the main config imports, in containerd's merge order, kata-deploy's own drop-ins included. */
  readonly importedConfigs?: ReadonlyMap<string, string>;
}

/** Throws a UsageError (exit 2) when writing `layout` on this node would break CRI or be overridden. */
export function refuseCriBreakingLayout(layout: ConfigLayout, names: Names, facts: CriTableFacts): void {
  const c = names.containerd;
  const v = facts.containerdVersion;
  if (v.major >= 2 || c.runtime.startsWith('k0s')) return;
  const ours = new Set([c.installDropIn, c.confDDropIn, c.distroDropIns?.v2, c.distroDropIns?.v3]);
  const imported = [...(facts.importedConfigs ?? new Map<string, string>())].filter(([p]) => !ours.has(p));
  const release = `containerd ${formatVersion(v)}`;
  const upgrade = 'upgrade to containerd 2.x, which merges imported files key by key';

  if (layout.mode === 'whole-file') {
    for (const [path, text] of imported) {
      const table = criTableOf(text, path);
      if (table === undefined) continue;
      throw new UsageError(
        `${path} (imported by ${layout.file}) defines ${table}: ${release} lets an imported file replace that whole table, so the runtime handlers kata-deploy adds to ${layout.file} would never be loaded and every install would fail its check`,
        {
          input: path,
          hint: `move the CRI settings of ${path} into ${layout.file} (or remove them from it), or ${upgrade}; nothing was changed on the node`,
        },
      );
    }
    return;
  }

  const dropIn = layout.dropIn;
  const others: [string, string][] = [
    ...(facts.mainConfig === undefined ? [] : [[c.configFile, facts.mainConfig] as [string, string]]),
    ...imported,
  ];
  const holder = others.find(([path, text]) => criTableOf(text, path) !== undefined);
  const why =
    holder === undefined
      ? `it would be the only CRI plugin table, and ${release} takes its runtimes in place of the built-in runc, so the CRI plugin would fail to load`
      : `${release} lets an imported file replace a plugin's whole table, so it would wipe the ${criTableOf(holder[1], holder[0])} table of ${holder[0]} and the CRI plugin would fail to load`;
  const remedy =
    c.templates === undefined
      ? upgrade
      : `on containerd 1.x add the Kata runtime handlers through ${c.templates.v2} (${c.runtime}'s config.toml.tmpl route: the rendered ${c.configFile} plus the handler tables), or upgrade to a ${c.runtime} release with containerd 2.x, which merges imported files key by key`;
  throw new UsageError(`refusing to write the drop-in ${dropIn} on ${release}: ${why}`, {
    input: holder?.[0] ?? dropIn,
    hint: `${remedy}; nothing was changed on the node`,
  });
}

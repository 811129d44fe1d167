/**
 * Where kata-deploy puts its containerd configuration on this node: the whole file (containerd 1.x), a drop-in
 * imported from the main file (2.x), a `conf.d` drop-in the main file already imports, or the drop-in
 * directory of k3s/rke2/k0s. Pure: decided from the runtime, the containerd version and the files' text. A layout
 * that would break CRI on containerd 1.x is refused here (cri-tables.ts).
 */
import { dirname } from 'node:path';
import { HostError, UsageError } from '../../errors/index.js';
import type { Names } from '../../names/index.js';
import type { Settings } from '../../settings/index.js';
import { refuseCriBreakingLayout } from './cri-tables.js';
import { importCovers, importEntries } from './imports.js';
import { parseToml } from './toml.js';
import { configVersionOf, formatVersion, type ContainerdVersion } from './version.js';
import { k3sTemplateRemedy, k3sTemplateExtension } from './k3s-template.js';

/** What a drop-in layout may carry besides kata-deploy's own drop-in. */
interface DropInExtras {
  /**
   * The operator's drop-in (`CONTAINERD_USER_DROP_IN_SOURCE_FILE`), beside kata-deploy's and loaded after it;
   * `importedBy`: the file whose `imports` must list it (after kata-deploy's entry), when nothing loads it yet.
   */
  readonly userDropIn?: { readonly path: string; readonly importedBy: string | undefined };
  /** k3s/rke2 with `K3S_RKE2_TEMPLATE_IMPORT=true`: the template that makes the rendered config import the dir. */
  readonly template?: { readonly path: string; readonly content: string };
}

export type ConfigLayout =
  /** kata-deploy edits the main file itself. */
  | { readonly mode: 'whole-file'; readonly file: string; readonly configVersion: number }
  /** kata-deploy writes `dropIn` and adds it to `imports` of `importsFile`. */
  | ({
      readonly mode: 'imported-drop-in';
      readonly dropIn: string;
      readonly importsFile: string;
      readonly configVersion: number;
    } & DropInExtras)
  /** kata-deploy writes `dropIn` into a directory the runtime already loads. */
  | ({
      readonly mode: 'loaded-drop-in';
      readonly dropIn: string;
      readonly configVersion: number;
    } & DropInExtras);

export interface LayoutFacts {
  readonly containerdVersion: ContainerdVersion;
  /** Text of `names.containerd.configFile`, undefined when missing. */
  readonly mainConfig: string | undefined;
  /** Every file the main config imports, in containerd's merge order (to refuse layouts that break CRI). */
  readonly importedConfigs?: ReadonlyMap<string, string>;
  /** Text of other files read (k3s/rke2 templates among them), by node path; undefined = missing. */
  readonly files?: ReadonlyMap<string, string | undefined>;
  /** Node paths this install's state records as written by it (a template kata-deploy wrote, say). */
  readonly recorded?: ReadonlySet<string>;
}

/** Where kata-deploy's configuration goes; refused (exit 2) where writing it would break or miss CRI. */
export function chooseLayout(settings: Settings, names: Names, facts: LayoutFacts): ConfigLayout {
  const layout = withUserDropIn(pickLayout(settings, names, facts), settings, names, facts);
  refuseCriBreakingLayout(layout, names, facts);
  return layout;
}

/** The operator's containerd drop-in goes beside kata-deploy's: drop-in layouts only (containerd 2.x, k0s). */
function withUserDropIn(
  layout: ConfigLayout,
  settings: Settings,
  names: Names,
  facts: LayoutFacts,
): ConfigLayout {
  if (settings.containerdUserDropInSource === undefined) return layout;
  const c = names.containerd;
  if (layout.mode === 'whole-file') {
    throw new UsageError(
      `CONTAINERD_USER_DROP_IN_SOURCE_FILE needs containerd drop-in support (containerd 2.0 or later, or k0s); this node runs containerd ${formatVersion(facts.containerdVersion)}, whose configuration kata-deploy edits in place`,
      {
        input: 'CONTAINERD_USER_DROP_IN_SOURCE_FILE',
        hint: `put those settings into ${layout.file} yourself, or unset CONTAINERD_USER_DROP_IN_SOURCE_FILE; nothing was changed on the node`,
      },
    );
  }
  const path = `${dirname(layout.dropIn)}/${c.userDropInName}`;
  let importedBy: string | undefined;
  if (layout.mode === 'imported-drop-in') importedBy = layout.importsFile;
  else if (c.runtime === 'containerd' && facts.mainConfig !== undefined) {
    const covered = importEntries(parseToml(facts.mainConfig, c.configFile)).some((e) =>
      importCovers(c.configFile, e, path),
    );
    importedBy = covered ? undefined : c.configFile;
  }
  return { ...layout, userDropIn: { path, importedBy } };
}

function pickLayout(settings: Settings, names: Names, facts: LayoutFacts): ConfigLayout {
  const c = names.containerd;
  const v = facts.containerdVersion;
  const dropInCapable = v.major >= 2 || c.runtime.startsWith('k0s');
  if (settings.multiInstallSuffix !== undefined && !dropInCapable) {
    throw new UsageError(
      `MULTI_INSTALL_SUFFIX="${settings.multiInstallSuffix}" needs containerd drop-in support (2.0 or later); this node runs containerd ${formatVersion(v)}`,
      { input: 'MULTI_INSTALL_SUFFIX', hint: 'unset MULTI_INSTALL_SUFFIX or upgrade containerd' },
    );
  }
  if (settings.snapshotterMapping.size > 0 && v.major === 1 && v.minor < 7) {
    throw new UsageError(
      `SNAPSHOTTER_HANDLER_MAPPING_${settings.arch.toUpperCase()} needs containerd 1.7 or later; this node runs ${formatVersion(v)}`,
      {
        input: `SNAPSHOTTER_HANDLER_MAPPING_${settings.arch.toUpperCase()}`,
        hint: 'unset it or upgrade containerd',
      },
    );
  }
  const customWithSnapshotter = settings.customRuntimes.find((r) => r.snapshotter !== undefined);
  if (customWithSnapshotter !== undefined && v.major === 1 && v.minor < 7) {
    throw new UsageError(
      `custom runtime ${customWithSnapshotter.handler} names snapshotter ${customWithSnapshotter.snapshotter}: a per-handler snapshotter needs containerd 1.7 or later; this node runs ${formatVersion(v)}`,
      {
        input: `${settings.customConfigsDir}/custom-runtimes.list`,
        hint: 'leave the snapshotter field of that line empty, or upgrade containerd; nothing was changed on the node',
      },
    );
  }
  const fileVersion = facts.mainConfig === undefined ? undefined : configVersionOf(facts.mainConfig);
  const dropInVersion = fileVersion !== undefined && fileVersion >= 2 ? fileVersion : v.major >= 2 ? 3 : 2;

  if (c.distroDropIns !== undefined && c.templates !== undefined) {
    // k3s / rke2: the rendered config must already import the versioned drop-in directory.
    if (facts.mainConfig === undefined) {
      throw new HostError(`cannot read the rendered ${c.runtime} containerd config ${c.configFile}`, {
        input: c.configFile,
        hint: `check that the node runs ${c.runtime} (K8S_DISTRIBUTION / --runtime)`,
      });
    }
    const useV3 = dropInVersion >= 3;
    const dropIn = useV3 ? c.distroDropIns.v3 : c.distroDropIns.v2;
    const template = useV3 ? c.templates.v3 : c.templates.v2;
    const ours = facts.recorded?.has(template) === true;
    // A rendered config that imports the dir because of kata-deploy's own template does not count: the template
    // goes with this install, and the import with it.
    if (!ours && renderedImports(facts.mainConfig, c.configFile, dropIn)) {
      return { mode: 'loaded-drop-in', dropIn, configVersion: useV3 ? 3 : 2 };
    }
    const operatorTemplate = ours ? undefined : facts.files?.get(template);
    if (!settings.k3sTemplateImport || operatorTemplate !== undefined) {
      throw new UsageError(
        `the containerd config ${c.runtime} renders (${c.configFile}) does not import ${dirname(dropIn)}, where kata-deploy's drop-in goes, so containerd would never load it`,
        {
          input: operatorTemplate === undefined ? c.configFile : template,
          hint: `${k3sTemplateRemedy({ runtime: c.runtime, unit: c.unit, template, dropInDir: dirname(dropIn), operatorTemplate: operatorTemplate !== undefined, ours })}; nothing was changed on the node`,
        },
      );
    }
    return {
      mode: 'loaded-drop-in',
      dropIn,
      configVersion: useV3 ? 3 : 2,
      template: { path: template, content: k3sTemplateExtension(c.runtime, dirname(dropIn)) },
    };
  }
  if (c.distroDropIns !== undefined) {
    return { mode: 'loaded-drop-in', dropIn: c.distroDropIns.v3, configVersion: v.major >= 2 ? 3 : 2 };
  }
  if (v.major < 2) {
    return {
      mode: 'whole-file',
      file: c.configFile,
      configVersion: fileVersion ?? (facts.mainConfig === undefined ? 2 : 1),
    };
  }
  if (c.runtime === 'containerd' && facts.mainConfig !== undefined && importsMatch(facts.mainConfig, c)) {
    return { mode: 'loaded-drop-in', dropIn: c.confDDropIn, configVersion: dropInVersion };
  }
  return {
    mode: 'imported-drop-in',
    dropIn: c.installDropIn,
    importsFile: c.configFile,
    configVersion: dropInVersion,
  };
}

/**
 * Whether the rendered k3s/rke2 config imports the drop-in (its `imports`, a path or glob, cover it). An entry
 * may name the directory under a prefix: a containerd run from a host root (`--host-root`, the bed) reads the
 * node's paths under it, and the rendered config names them so.
 */
function renderedImports(text: string, file: string, dropIn: string): boolean {
  const dir = `${dirname(dropIn)}/`;
  return importEntries(parseToml(text, file)).some((entry) => {
    const at = entry.indexOf(dir);
    return importCovers(file, entry, dropIn) || (at > 0 && importCovers(file, entry.slice(at), dropIn));
  });
}

/** True when one of the main file's `imports` (a path or glob) already covers the conf.d drop-in. */
function importsMatch(text: string, c: Names['containerd']): boolean {
  return importEntries(parseToml(text, c.configFile)).some((entry) =>
    importCovers(c.configFile, entry, c.confDDropIn),
  );
}

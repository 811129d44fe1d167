/**
 * Where kata-deploy puts its containerd configuration on this node: the whole file (containerd 1.x), a drop-in
 * imported from the main file (2.x), a `conf.d` drop-in the main file already imports, or the drop-in
 * directory of k3s/rke2/k0s. Pure: decided from the runtime, the containerd version and the files' text. A layout
 * that would break CRI on containerd 1.x is refused here (cri-tables.ts).
 */
import { HostError, UsageError } from '../../errors/index.js';
import type { Names } from '../../names/index.js';
import type { Settings } from '../../settings/index.js';
import { refuseCriBreakingLayout } from './cri-tables.js';
import { importCovers, importEntries } from './imports.js';
import { parseToml } from './toml.js';
import { configVersionOf, formatVersion, type ContainerdVersion } from './version.js';

export type ConfigLayout =
  /** kata-deploy edits the main file itself. */
  | { readonly mode: 'whole-file'; readonly file: string; readonly configVersion: number }
  /** kata-deploy writes `dropIn` and adds it to `imports` of `importsFile`. */
  | {
      readonly mode: 'imported-drop-in';
      readonly dropIn: string;
      readonly importsFile: string;
      readonly configVersion: number;
    }
  /** kata-deploy writes `dropIn` into a directory the runtime already loads. */
  | { readonly mode: 'loaded-drop-in'; readonly dropIn: string; readonly configVersion: number };

export interface LayoutFacts {
  readonly containerdVersion: ContainerdVersion;
  /** Text of `names.containerd.configFile`, undefined when missing. */
  readonly mainConfig: string | undefined;
  /** Every file the main config imports, in containerd's merge order (to refuse layouts that break CRI). */
  readonly importedConfigs?: ReadonlyMap<string, string>;
}

/** Where kata-deploy's configuration goes; refused (exit 2) where writing it would break or miss CRI. */
export function chooseLayout(settings: Settings, names: Names, facts: LayoutFacts): ConfigLayout {
  const layout = pickLayout(settings, names, facts);
  refuseCriBreakingLayout(layout, names, facts);
  return layout;
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
    const dirName = dropIn.split('/').at(-2)!;
    if (!facts.mainConfig.includes(dirName)) {
      throw new HostError(
        `the rendered config ${c.configFile} does not import the drop-in directory ${dirName}`,
        {
          input: c.configFile,
          hint: `use a ${c.runtime} release whose config imports ${dirName}, or add it to the template's imports`,
        },
      );
    }
    return { mode: 'loaded-drop-in', dropIn, configVersion: useV3 ? 3 : 2 };
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

/** True when one of the main file's `imports` (a path or glob) already covers the conf.d drop-in. */
function importsMatch(text: string, c: Names['containerd']): boolean {
  return importEntries(parseToml(text, c.configFile)).some((entry) =>
    importCovers(c.configFile, entry, c.confDDropIn),
  );
}

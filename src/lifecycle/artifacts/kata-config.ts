/**
 * The Kata configuration kata-deploy writes per handler, as strings: the managed copy of the shipped
 * `configuration-<shim>.toml` (with hypervisor annotations and forced guest pull edited in place) and the
 * `config.d/` drop-ins upstream writes (installation prefix, debug, kernel parameters with agent proxies).
 */
import { patch } from '@decimalturn/toml-patch';
import type { HandlerNames } from '../../names/index.js';
import { DEFAULT_INSTALL_DIR } from '../../names/index.js';
import type { ProxySetting, Settings } from '../../settings/index.js';
import {
  formatPath,
  formatString,
  getAt,
  isTable,
  parseToml,
  renderTable,
  type TomlTable,
  type TomlValue,
} from '../../containerd/config/toml.js';

export const MANAGED_HEADER = `# =============================================================================
# IMPORTANT: This file is managed by kata-deploy. Do not modify it directly!
#
# To customize settings, create drop-in configuration files in the config.d/
# directory alongside this file. Drop-in files are processed in alphabetical
# order, with later files overriding earlier settings.
#
# Example: config.d/50-custom.toml
# =============================================================================

`;

/**
 * The managed copy of a shim's shipped configuration. A custom runtime's is the shipped file with the header
 * only (as upstream: the operator's `50-overrides.toml` carries its changes).
 */
export function managedConfig(base: string, h: HandlerNames, settings: Settings, file: string): string {
  if (h.variant === 'custom') return `${MANAGED_HEADER}${base}`;
  const doc = parseToml(base, file);
  const updated = structuredClone(doc);
  const annotations = settings.hypervisorAnnotations.get(h.shim) ?? [];
  if (annotations.length > 0) {
    const hv = getAt(updated, ['hypervisor', h.hypervisor]);
    if (isTable(hv)) {
      const existing = Array.isArray(hv['enable_annotations']) ? hv['enable_annotations'].map(String) : [];
      hv['enable_annotations'] = [...new Set([...existing, ...annotations])].sort();
    }
  }
  if (settings.forceGuestPull.includes(h.shim)) {
    const runtime = isTable(updated['runtime']) ? updated['runtime'] : (updated['runtime'] = {});
    (runtime as TomlTable)['experimental_force_guest_pull'] = true;
  }
  const body =
    JSON.stringify(updated) === JSON.stringify(doc) ? base : patch(base, updated, { inlineTableStart: 99 });
  return `${MANAGED_HEADER}${body}`;
}

/** A path the payload sets under /opt/kata, moved under the real install dir; undefined when not ours. */
export function reprefix(path: string, installDir: string): string | undefined {
  if (path !== DEFAULT_INSTALL_DIR && !path.startsWith(`${DEFAULT_INSTALL_DIR}/`)) return undefined;
  return `${installDir}${path.slice(DEFAULT_INSTALL_DIR.length)}`;
}

function reprefixTree(table: TomlTable, installDir: string): TomlTable | undefined {
  const out: TomlTable = {};
  for (const [key, value] of Object.entries(table)) {
    const moved = reprefixValue(value, installDir);
    if (moved !== undefined) out[key] = moved;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function reprefixValue(value: TomlValue, installDir: string): TomlValue | undefined {
  if (typeof value === 'string') return reprefix(value, installDir);
  if (Array.isArray(value)) {
    if (!value.every((v) => typeof v === 'string')) return undefined;
    const moved = value.map((v) => reprefix(v as string, installDir));
    return moved.some((m) => m !== undefined) ? value.map((v, i) => moved[i] ?? v) : undefined;
  }
  return isTable(value) ? reprefixTree(value, installDir) : undefined;
}

export interface PrefixDropIn {
  readonly content: string;
  /** QEMU finds its data dir from a compiled-in path: a relocated QEMU runs through this wrapper adding `-L`. */
  readonly qemuWrapper: { readonly path: string; readonly content: string } | undefined;
}

/** `10-installation-prefix.toml`: every path the shipped configuration sets under /opt/kata, moved. */
export function installationPrefixDropIn(
  base: string,
  h: HandlerNames,
  installDir: string,
  arch: string,
  file: string,
): PrefixDropIn | undefined {
  if (installDir === DEFAULT_INSTALL_DIR) return undefined;
  const moved = reprefixTree(parseToml(base, file), installDir);
  if (moved === undefined) return undefined;
  let qemuWrapper: PrefixDropIn['qemuWrapper'];
  const hv = getAt(moved, ['hypervisor', h.hypervisor]);
  if (h.hypervisor === 'qemu' && isTable(hv) && typeof hv['path'] === 'string') {
    const qemu = hv['path'];
    const system = `qemu-system-${arch === 'ppc64le' ? 'ppc64' : arch}`;
    const name = qemu.split('/').at(-1) ?? '';
    if (name.startsWith(system)) {
      const dataDir = `${installDir}/share/kata-qemu${name.slice(system.length)}/qemu/`;
      const wrapper = `${qemu}-installation-prefix`;
      qemuWrapper = { path: wrapper, content: `#!/usr/bin/env bash\n\nexec ${qemu} "$@" -L ${dataDir}\n` };
      hv['path'] = wrapper;
    }
  }
  const sections = Object.entries(moved).map(([key, value]) =>
    isTable(value) ? renderTable([key], value) : renderTable([], { [key]: value }),
  );
  return {
    content:
      '# Installation prefix adjustments\n# Generated by kata-deploy\n#\n' +
      `# The paths the base configuration sets under ${DEFAULT_INSTALL_DIR}, moved to ${installDir}.\n\n` +
      sections.join('\n'),
    qemuWrapper,
  };
}

/** `20-debug.toml`, for the `-debug` variant handlers only. */
export function debugDropIn(h: HandlerNames): string {
  return (
    '# Debug configuration\n# Generated by kata-deploy\n\n' +
    `[hypervisor.${h.hypervisor}]\nenable_debug = true\n\n[runtime]\nenable_debug = true\n\n` +
    '[agent.kata]\ndebug_console_enabled = true\nenable_debug = true\n'
  );
}

function proxyFor(setting: ProxySetting | undefined, shim: string): string | undefined {
  if (setting === undefined) return undefined;
  return setting.kind === 'global' ? setting.value : setting.values.get(shim);
}

/** `30-kernel-params.toml`: the shipped kernel_params plus agent proxies (and debug parameters). */
export function kernelParamsDropIn(
  base: string,
  h: HandlerNames,
  settings: Settings,
  file: string,
): string | undefined {
  const extra: string[] = [];
  const https = proxyFor(settings.agentHttpsProxy, h.shim);
  const noProxy = proxyFor(settings.agentNoProxy, h.shim);
  if (https !== undefined) extra.push(`agent.https_proxy=${https}`);
  if (noProxy !== undefined) extra.push(`agent.no_proxy=${noProxy}`);
  if (h.variant === 'debug' || h.variant === 'devkit') extra.push('agent.log=debug', 'initcall_debug');
  if (extra.length === 0) return undefined;
  const shipped = getAt(parseToml(base, file), ['hypervisor', h.hypervisor, 'kernel_params']);
  const params = [typeof shipped === 'string' ? shipped.trim() : '', ...extra]
    .filter((p) => p !== '')
    .join(' ');
  return (
    '# Kernel parameters\n# Generated by kata-deploy\n# This file combines base kernel_params with additional settings\n\n' +
    `[hypervisor.${h.hypervisor}]\nkernel_params = ${formatString(params)}\n`
  );
}

/** A `[[hypervisor.<hv>.guest_extension_images]]` entry. */
interface GuestExtension {
  readonly name: string;
  readonly path: string;
  readonly verityParams: string | undefined;
}

function guestExtensions(base: string, h: HandlerNames, file: string): GuestExtension[] {
  const images = getAt(parseToml(base, file), ['hypervisor', h.hypervisor, 'guest_extension_images']);
  if (!Array.isArray(images)) return [];
  return images.flatMap((t) => {
    if (!isTable(t) || typeof t['name'] !== 'string' || typeof t['path'] !== 'string') return [];
    if (t['name'] === 'devkit') return [];
    const verity = t['verity_params'];
    return [
      { name: t['name'], path: t['path'], verityParams: typeof verity === 'string' ? verity : undefined },
    ];
  });
}

/**
 * `25-devkit.toml`, for the `-devkit` variant handlers: the agent's debug console, and the devkit extension
 * image attached as the last `guest_extension_images` entry. A drop-in replaces the whole array, so the images
 * the shipped configuration lists come first again (moved under the install dir). `rootHash` is the first line
 * of the payload's `root_hash_devkit-extension.txt`: the image's dm-verity parameters, when the payload has them.
 */
export function devkitDropIn(
  base: string,
  h: HandlerNames,
  image: string,
  rootHash: string | undefined,
  installDir: string,
  file: string,
): string {
  const entries: GuestExtension[] = [
    ...guestExtensions(base, h, file).map((e) => ({ ...e, path: reprefix(e.path, installDir) ?? e.path })),
    { name: 'devkit', path: image, verityParams: rootHash },
  ];
  const header = `[[${formatPath(['hypervisor', h.hypervisor, 'guest_extension_images'])}]]\n`;
  const tables = entries.map(
    (e) =>
      `${header}name = ${formatString(e.name)}\npath = ${formatString(e.path)}\n` +
      (e.verityParams === undefined ? '' : `verity_params = ${formatString(e.verityParams)}\n`),
  );
  return (
    '# Devkit debug extension\n# Generated by kata-deploy\n#\n' +
    '# The agent debug console, and the devkit extension image attached as the last guest extension (the\n' +
    '# images the base configuration lists come first again: a drop-in replaces the whole array).\n\n' +
    `[agent.kata]\ndebug_console_enabled = true\n\n${tables.join('\n')}`
  );
}

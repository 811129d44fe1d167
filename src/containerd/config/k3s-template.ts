/**
 * k3s and rke2 render containerd's config from a Go template; `config-v3.toml.tmpl` (containerd 2.x) or
 * `config.toml.tmpl` beside it replaces theirs, and `{{ template "base" . }}` in it renders theirs. A release
 * whose base does not import the drop-in directory (`config-v3.toml.d`) never loads kata-deploy's drop-in: the
 * remedy is an `imports` line above the base. `imports` is a top-level key, so it must come before the first
 * table the base renders; the base begins with top-level keys only (`version`, `root`, `state`), so the line
 * goes first.
 */
import { distributionOf } from '../../settings/schema.js';

/** The import line for the drop-in directory. */
export function importLine(dropInDir: string): string {
  return `imports = ["${dropInDir}/*.toml"]`;
}

export const BASE_TEMPLATE_LINE = '{{ template "base" . }}';

/** The template kata-deploy writes with `K3S_RKE2_TEMPLATE_IMPORT=true`: the base plus the import. */
export function k3sTemplateExtension(runtime: string, dropInDir: string): string {
  const distro = distributionOf(runtime);
  return (
    `# Written by kata-deploy (K3S_RKE2_TEMPLATE_IMPORT=true): ${distro}'s own containerd template, plus an\n` +
    `# import of ${dropInDir}, where kata-deploy puts its drop-in. \`kata-deploy cleanup\`\n` +
    `# removes this file. Remove it before moving to a ${distro} release that imports the directory itself.\n` +
    `${importLine(dropInDir)}\n${BASE_TEMPLATE_LINE}\n`
  );
}

/** The exact change that makes the rendered config import the drop-in directory. */
export function k3sTemplateRemedy(o: {
  readonly runtime: string;
  readonly unit: string | undefined;
  readonly template: string;
  readonly dropInDir: string;
  /** The operator has a template of their own there. */
  readonly operatorTemplate: boolean;
  /** The template there is kata-deploy's (recorded by this install). */
  readonly ours: boolean;
}): string {
  const restart = `restart ${o.unit ?? o.runtime}, then run kata-deploy install again`;
  if (o.operatorTemplate) {
    return `add the line \`${importLine(o.dropInDir)}\` to ${o.template} before its first table (above its \`${BASE_TEMPLATE_LINE}\` line), ${restart}; kata-deploy does not edit a template of yours`;
  }
  const create = `create ${o.template} with the two lines \`${importLine(o.dropInDir)}\` and \`${BASE_TEMPLATE_LINE}\`, in that order, ${restart}`;
  const ourOwn = o.ours
    ? `; the template there now is kata-deploy's own (written with K3S_RKE2_TEMPLATE_IMPORT=true), which goes with this install when that setting is off`
    : '';
  return `${create}; or set K3S_RKE2_TEMPLATE_IMPORT=true and kata-deploy writes that template itself (cleanup removes it)${ourOwn}`;
}

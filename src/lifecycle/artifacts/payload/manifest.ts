/**
 * Upstream's component payload: `shim-components.json` maps each shim to the component tarballs it needs per
 * architecture (`{"shims": {"<shim>": {"<arch>": ["<component>", …]}}, "requiredComponents": {"<arch>": […]}}`),
 * and `tarballs/kata-static-<component>.tar.zst` holds each component. Pure: which components an install
 * extracts, and the payload's optional `tarballs/SHA256SUMS` (sha256sum's format) read.
 */
import { z } from 'zod';
import { quoteValue, UsageError } from '../../../errors/index.js';

export const SHIM_COMPONENTS = 'shim-components.json';
export const TARBALLS_DIR = 'tarballs';
export const SHA256SUMS = 'SHA256SUMS';
/** Pulled in by DEBUG (upstream: kata-ctl ships in its own bundle) and by DEVKIT. */
export const DEBUG_COMPONENTS = ['kata-ctl'];
export const DEVKIT_COMPONENT = 'rootfs-image-devkit-extension';

const COMPONENT = /^[a-z0-9][a-z0-9.-]*$/;
const componentList = z.array(z.string().regex(COMPONENT, 'a component name ([a-z0-9][a-z0-9.-]*)'));
const manifestSchema = z.object({
  shims: z.record(z.string(), z.record(z.string(), componentList.min(1))),
  requiredComponents: z.record(z.string(), componentList).optional(),
});
export type ShimComponents = z.infer<typeof manifestSchema>;

export function tarballName(component: string): string {
  return `kata-static-${component}.tar.zst`;
}

export function parseShimComponents(text: string, file: string): ShimComponents {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file} is not JSON: ${(error as Error).message}`, {
      input: file,
      hint: 'use the payload as kata-deploy’s image ships it; nothing was changed on the node',
    });
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(
      `${file} is not a shim-components manifest: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`,
      {
        input: file,
        hint: 'expected {"shims": {"<shim>": {"<arch>": ["<component>", …]}}, "requiredComponents": {"<arch>": […]}}',
      },
    );
  }
  return parsed.data;
}

export interface ComponentChoice {
  /** Every component the install needs, sorted (extracted in this order, so a later one wins a shared path). */
  readonly required: readonly string[];
  /** Components installed when the payload has them (debug tools). */
  readonly optional: readonly string[];
}

/** The components for the shims the handlers are based on, on this architecture. */
export function chooseComponents(
  manifest: ShimComponents,
  file: string,
  wants: {
    readonly bases: readonly string[];
    readonly arch: string;
    readonly debug: boolean;
    readonly devkit: boolean;
  },
): ComponentChoice {
  const required = new Set(manifest.requiredComponents?.[wants.arch] ?? []);
  for (const shim of wants.bases) {
    const list = manifest.shims[shim]?.[wants.arch];
    if (list === undefined) {
      throw new UsageError(`${file} lists no component for shim ${shim} on ${wants.arch}`, {
        input: file,
        hint: `use a payload built for ${wants.arch} with ${shim}, or leave ${shim} out of the shims; nothing was changed on the node`,
      });
    }
    for (const c of list) required.add(c);
  }
  if (wants.devkit) required.add(DEVKIT_COMPONENT);
  const optional = wants.debug ? DEBUG_COMPONENTS.filter((c) => !required.has(c)) : [];
  return { required: [...required].sort(), optional };
}

/** `tarballs/SHA256SUMS`: `<sha256>  <file name>` per line (sha256sum's format, `*` binary marker allowed). */
export function parseSha256Sums(text: string, file: string): Map<string, string> {
  const out = new Map<string, string>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!m || m[2]!.includes('/')) {
      throw new UsageError(
        `${file} line ${i + 1}: ${quoteValue(line)} is not valid: expected "<sha256>  <tarball name>"`,
        { input: file, hint: `fix line ${i + 1} (sha256sum's format); nothing was changed on the node` },
      );
    }
    out.set(m[2]!, m[1]!);
  });
  return out;
}

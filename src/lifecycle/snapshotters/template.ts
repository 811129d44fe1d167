/**
 * Renders the payload's snapshotter templates. Placeholders are `@NAME@` words; every value is validated
 * against what it stands for (an absolute path of plain characters, or a unit name), then escaped for the file
 * it goes into, and the result is parsed again, so a value can never add a key, a line or an argument.
 */
import { UsageError } from '../../errors/index.js';
import { parseToml } from '../../containerd/config/toml.js';
import { serviceSpecSchema } from '../../host/index.js';

export type TemplateKind = 'toml' | 'json' | 'systemd';

export type ValueKind = 'path' | 'unit';

export interface TemplateValue {
  readonly value: string;
  readonly kind: ValueKind;
}

const PATH = /^\/[A-Za-z0-9._+/-]*$/;
const UNIT = /^[A-Za-z0-9][A-Za-z0-9._@:-]*$/;
const PLACEHOLDER = /@([A-Z][A-Z0-9_]*)@/g;

function checkValue(name: string, v: TemplateValue): void {
  const ok =
    v.kind === 'path'
      ? PATH.test(v.value) && !v.value.split('/').includes('..')
      : UNIT.test(v.value) && v.value.length <= 255;
  if (!ok) {
    throw new UsageError(
      `cannot render @${name}@ as ${JSON.stringify(v.value)}: expected ${v.kind === 'path' ? 'an absolute path of letters, digits and . _ + - /' : 'a unit name'}`,
      {
        input: name,
        hint:
          v.kind === 'path'
            ? 'choose a --host-root, INSTALLATION_PREFIX and MULTI_INSTALL_SUFFIX of plain characters'
            : 'check --runtime',
      },
    );
  }
}

function escape(value: string, kind: TemplateKind): string {
  if (kind === 'toml') return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  if (kind === 'json') return JSON.stringify(value).slice(1, -1);
  return value.replace(/%/g, '%%');
}

export function renderTemplate(
  template: string,
  values: Readonly<Record<string, TemplateValue>>,
  kind: TemplateKind,
  source: string,
): string {
  for (const [name, v] of Object.entries(values)) checkValue(name, v);
  const out = template.replace(PLACEHOLDER, (whole, name: string) => {
    const v = values[name];
    if (v === undefined) {
      throw new UsageError(`${source}: unknown placeholder ${whole}`, {
        input: source,
        hint: `known placeholders: ${Object.keys(values)
          .map((n) => `@${n}@`)
          .join(', ')}`,
      });
    }
    return escape(v.value, kind);
  });
  checkRendered(out, kind, source);
  return out;
}

function checkRendered(text: string, kind: TemplateKind, source: string): void {
  try {
    if (kind === 'toml') parseToml(text, source);
    else if (kind === 'json') {
      const parsed = serviceSpecSchema.safeParse(JSON.parse(text));
      if (!parsed.success) throw new Error(parsed.error.issues[0]?.message ?? 'invalid service spec');
    } else if (!/^ExecStart=/m.test(text)) throw new Error('no ExecStart= line');
  } catch (error) {
    throw new UsageError(
      `${source} does not render to a valid ${kind === 'systemd' ? 'unit file' : kind.toUpperCase()}: ${error instanceof Error ? error.message : String(error)}`,
      { input: source, hint: 'fix the template in the payload' },
    );
  }
}

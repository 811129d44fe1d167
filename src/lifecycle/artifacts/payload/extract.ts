/**
 * The `extractFiles` step: one streamed pass over a component tarball, writing the planned members to node
 * paths. Each file goes through a temp file and a rename and replaces its target only when its content hashes
 * to what was planned; the archive's own sha256 (SHA256SUMS) is checked before anything is written.
 */
import { HostError } from '../../../errors/index.js';
import type { Host } from '../../../host/index.js';
import type { Step } from '../../steps.js';
import { forEachMember, sha256Of } from './archive.js';

type ExtractStep = Extract<Step, { kind: 'extractFiles' }>;

export async function extractFiles(step: ExtractStep, host: Host): Promise<void> {
  if (step.archiveSha256 !== undefined) {
    const got = await sha256Of(step.archive);
    if (got !== step.archiveSha256)
      throw new HostError(`${step.archive} has sha256 ${got}, not ${step.archiveSha256} as planned`, {
        input: step.archive,
        hint: 'the payload changed under this run; run install again',
      });
  }
  const byMember = new Map<string, ExtractStep['files'][number][]>();
  for (const f of step.files) byMember.set(f.member, [...(byMember.get(f.member) ?? []), f]);
  const written = new Set<string>();
  await forEachMember(step.archive, async (m, data) => {
    const targets = byMember.get(m.name);
    if (targets === undefined || data === undefined) return;
    const [first, ...more] = targets;
    await host.writeFrom(first!.path, data, first!.mode, first!.sha256);
    written.add(first!.path);
    // Hard links in the archive: the same content again, read back from the file just written.
    for (const t of more) {
      const content = (await host.read(first!.path))!;
      await host.writeFrom(
        t.path,
        (async function* () {
          yield content;
        })(),
        t.mode,
        t.sha256,
      );
      written.add(t.path);
    }
  });
  const missing = step.files.filter((f) => !written.has(f.path));
  if (missing.length > 0)
    throw new HostError(`${step.archive} no longer holds ${missing.map((f) => f.member).join(', ')}`, {
      input: step.archive,
      hint: 'the payload changed under this run; run install again',
    });
}

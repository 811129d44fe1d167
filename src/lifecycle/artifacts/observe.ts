/**
 * What install needs to know about the payload and the install dir: every payload file (hashed), what is
 * installed already (hashed), the text of the shipped configurations the handlers are based on, and the devkit
 * root hash. The payload is either upstream's component payload (`shim-components.json` and `.tar.zst`
 * tarballs, see payload/) or a plain `opt/kata/` tree.
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../../errors/index.js';
import { sha256File, type Host, type TreeEntry } from '../../host/index.js';
import { lstatIfExists, walk } from '../../host/fs.js';
import type { Names } from '../../names/index.js';
import type { Settings } from '../../settings/index.js';
import type { ArtifactFacts, TreeFact } from './plan.js';
import { DEVKIT_FILES } from './plan.js';
import { componentPayloadFacts, SHIM_COMPONENTS } from './payload/facts.js';

async function toFacts(entries: readonly TreeEntry[], root: string): Promise<Map<string, TreeFact>> {
  const out = new Map<string, TreeFact>();
  for (const e of entries) {
    let sha256: string | undefined;
    try {
      sha256 = e.type === 'file' ? await sha256File(`${root}/${e.rel}`) : undefined;
    } catch (error) {
      // Renamed or removed since it was listed (another install's temp file, before the lock): not there.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    out.set(e.rel, { type: e.type, mode: e.mode, sha256, linkTarget: e.linkTarget });
  }
  return out;
}

/** Relative paths (to the install dir) of the shipped configurations the handlers are based on. */
function baseConfigPaths(names: Names): string[] {
  return [...new Set(names.handlers.map((h) => h.baseConfigFile.slice(names.installDir.length + 1)))];
}

export async function artifactFacts(settings: Settings, host: Host, names: Names): Promise<ArtifactFacts> {
  const installed = await toFacts(await host.walk(names.installDir), host.path(names.installDir));
  const installDirExists = (await host.lstat(names.installDir))?.isDirectory() ?? false;
  const wanted = [...baseConfigPaths(names), DEVKIT_FILES[1]!];

  if ((await lstatIfExists(`${settings.artifactsDir}/${SHIM_COMPONENTS}`))?.isFile()) {
    const payload = await componentPayloadFacts(settings, names, wanted);
    return {
      payloadRoot: settings.artifactsDir,
      payload: payload.entries,
      installed,
      installDirExists,
      baseConfigs: payload.texts,
      devkitRootHash: firstLine(payload.texts.get(DEVKIT_FILES[1]!)),
      archives: payload.archives,
    };
  }

  const payloadRoot = `${settings.artifactsDir}/opt/kata`;
  const payloadEntries = await walk(payloadRoot);
  if (payloadEntries.length === 0) {
    throw new UsageError(
      `--artifacts-dir ${settings.artifactsDir} holds no Kata payload (neither ${SHIM_COMPONENTS} nor an opt/kata/ tree)`,
      {
        input: '--artifacts-dir',
        hint: `point it at the directory that holds ${SHIM_COMPONENTS} and tarballs/, or opt/kata/`,
      },
    );
  }
  const payload = await toFacts(payloadEntries, payloadRoot);
  const texts = new Map<string, string>();
  for (const rel of wanted) {
    if (payload.get(rel)?.type !== 'file') continue;
    texts.set(rel, await readFile(`${payloadRoot}/${rel}`, 'utf8'));
  }
  return {
    payloadRoot,
    payload,
    installed,
    installDirExists,
    baseConfigs: texts,
    devkitRootHash: firstLine(texts.get(DEVKIT_FILES[1]!)),
  };
}

/** The first non-blank line, trimmed: the root hash file's dm-verity parameters. */
function firstLine(text: string | undefined): string | undefined {
  return text
    ?.split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '');
}

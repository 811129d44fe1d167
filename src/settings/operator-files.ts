/**
 * The operator's files, read when a run starts and validated like the variables that name them: the custom
 * runtimes list and drop-ins of the custom-configs directory (upstream's `/custom-configs` ConfigMap mount) and
 * the containerd drop-in `CONTAINERD_USER_DROP_IN_SOURCE_FILE` names. Paths are as this process sees them (in a
 * pod, the container's own mounts), not node paths. A missing or bad file is refused (exit 2) naming the file,
 * before anything on the node is read or written.
 */
import { readFile } from 'node:fs/promises';
import { isErrno, KataDeployError, UsageError } from '../errors/index.js';
import { parseToml } from '../containerd/config/toml.js';
import { checkRootKeys } from '../containerd/config/version.js';
import { handlerName } from '../names/names.js';
import { parseCustomRuntimesList } from './custom-runtimes.js';
import type { CustomRuntime, OperatorFile, Settings } from './types.js';

export const CUSTOM_RUNTIMES_LIST = 'custom-runtimes.list';

/** Reads a file; undefined when it does not exist. */
export type ReadText = (path: string) => Promise<string | undefined>;

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`, {
      input: path,
      hint: 'make the file readable; nothing was changed on the node',
    });
  }
}

/** The file's TOML must parse (and, for containerd, its root keys read); else exit 2 naming it. */
function checkToml(file: OperatorFile, what: string, containerd: boolean): OperatorFile {
  try {
    const doc = parseToml(file.content, file.source);
    if (containerd) checkRootKeys(doc, file.source);
  } catch (error) {
    if (!(error instanceof KataDeployError)) throw error;
    throw new UsageError(`${what}: ${error.message}`, {
      input: file.source,
      hint: `fix ${file.source}; nothing was changed on the node`,
    });
  }
  return file;
}

/** Handler names kata-deploy derives itself, with what each one is: a custom runtime must not take one. */
function reservedHandlers(settings: Settings): Map<string, string> {
  const out = new Map<string, string>();
  const variants = ['default', 'debug', 'devkit'] as const;
  for (const shim of settings.shims)
    for (const v of variants)
      out.set(
        handlerName(shim, settings.multiInstallSuffix, v),
        v === 'default' ? `the handler of shim ${shim}` : `the ${v} handler of shim ${shim}`,
      );
  return out;
}

/**
 * `settings` with the operator's files read in; the settings themselves stay as loaded. Cleanup goes by the
 * install state and reads only the custom runtimes list, for the names a cleanup without a state looks for;
 * a list it cannot use is no reason to keep Kata on the node (`forCleanup`: such a list counts as empty).
 */
export async function readOperatorFiles(
  settings: Settings,
  read: ReadText = readIfExists,
  options: { readonly forCleanup?: boolean } = {},
): Promise<Settings> {
  if (options.forCleanup) {
    if (!settings.customRuntimesEnabled) return settings;
    const list = `${settings.customConfigsDir}/${CUSTOM_RUNTIMES_LIST}`;
    let lines: ReturnType<typeof parseCustomRuntimesList> = [];
    try {
      lines = parseCustomRuntimesList((await read(list)) ?? '', list, reservedHandlers(settings));
    } catch (error) {
      if (!(error instanceof KataDeployError)) throw error;
    }
    const customRuntimes = lines.map((l): CustomRuntime => ({ ...l, dropIn: undefined }));
    return Object.freeze({ ...settings, customRuntimes: Object.freeze(customRuntimes) });
  }
  const dir = settings.customConfigsDir;
  const shimDropIns = new Map<string, OperatorFile>();
  for (const shim of settings.shims) {
    const source = `${dir}/dropin-${shim}.toml`;
    const content = await read(source);
    if (content !== undefined)
      shimDropIns.set(shim, checkToml({ source, content }, `the drop-in for shim ${shim}`, false));
  }

  const customRuntimes: CustomRuntime[] = [];
  if (settings.customRuntimesEnabled) {
    const list = `${dir}/${CUSTOM_RUNTIMES_LIST}`;
    const text = await read(list);
    if (text === undefined) {
      throw new UsageError(`CUSTOM_RUNTIMES_ENABLED=true, but ${list} does not exist`, {
        input: list,
        hint: `provide ${list} (one custom runtime a line: handler:baseConfig[:snapshotter[:crioPullType]]), point --custom-configs-dir at its directory, or unset CUSTOM_RUNTIMES_ENABLED; nothing was changed on the node`,
      });
    }
    const lines = parseCustomRuntimesList(text, list, reservedHandlers(settings));
    if (lines.length === 0) {
      throw new UsageError(`CUSTOM_RUNTIMES_ENABLED=true, but ${list} lists no custom runtime`, {
        input: list,
        hint: `add one line per custom runtime (handler:baseConfig[:snapshotter[:crioPullType]]) or unset CUSTOM_RUNTIMES_ENABLED; nothing was changed on the node`,
      });
    }
    for (const l of lines) {
      const source = `${dir}/dropin-${l.handler}.toml`;
      const content = await read(source);
      customRuntimes.push({
        handler: l.handler,
        baseConfig: l.baseConfig,
        snapshotter: l.snapshotter,
        crioPullType: l.crioPullType,
        dropIn:
          content === undefined
            ? undefined
            : checkToml({ source, content }, `the drop-in for custom runtime ${l.handler}`, false),
      });
    }
  }

  let containerdUserDropIn: OperatorFile | undefined;
  const userSource = settings.containerdUserDropInSource;
  if (userSource !== undefined) {
    const content = await read(userSource);
    if (content === undefined) {
      throw new UsageError(`CONTAINERD_USER_DROP_IN_SOURCE_FILE=${userSource}: the file does not exist`, {
        input: 'CONTAINERD_USER_DROP_IN_SOURCE_FILE',
        hint: 'point it at the containerd drop-in to load after kata-deploy’s, or unset it; nothing was changed on the node',
      });
    }
    containerdUserDropIn = checkToml(
      { source: userSource, content },
      'CONTAINERD_USER_DROP_IN_SOURCE_FILE',
      true,
    );
  }

  return Object.freeze({
    ...settings,
    customRuntimes: Object.freeze(customRuntimes),
    shimDropIns,
    containerdUserDropIn,
  });
}

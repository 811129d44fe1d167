/**
 * How a runtime starts containerd, read from text: a systemd unit's `ExecStart` (with its drop-ins and
 * `Environment=`), microk8s's args file, and the flags that move containerd's root. Pure.
 */

/** A unit file and its drop-ins, in the order systemd applies them. */
export interface UnitText {
  readonly file: string;
  readonly text: string;
}

/** Splits a command line the way systemd does: whitespace, single and double quotes, backslash escapes. */
export function splitCommandLine(line: string): string[] {
  const out: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) out.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) out.push(word);
  return out;
}

/** `Key=value` lines of a unit's sections, continuation lines joined, comments dropped. */
function assignments(text: string): { key: string; value: string }[] {
  const out: { key: string; value: string }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';') || line.startsWith('[')) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) line = `${line.slice(0, -1)} ${lines[++i]!.trim()}`;
    const eq = line.indexOf('=');
    if (eq > 0) out.push({ key: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim() });
  }
  return out;
}

export interface UnitCommand {
  /** The command's words after `$VAR` / `${VAR}` expansion from `Environment=`; undefined without ExecStart. */
  readonly argv: readonly string[] | undefined;
  readonly environment: ReadonlyMap<string, string>;
  /** `EnvironmentFile=` entries (paths, a leading `-` kept off), for the caller to read if it must. */
  readonly environmentFiles: readonly string[];
}

/**
 * The effective `ExecStart` of a service and its `Environment=`: later files override earlier ones, an empty
 * `ExecStart=` resets the list, and the last command is the one that starts the daemon.
 */
export function unitCommand(texts: readonly UnitText[]): UnitCommand {
  let exec: string[] = [];
  const environment = new Map<string, string>();
  const environmentFiles: string[] = [];
  for (const { text } of texts) {
    for (const { key, value } of assignments(text)) {
      if (key === 'ExecStart') {
        if (value === '') exec = [];
        else exec.push(value);
      } else if (key === 'Environment') {
        for (const pair of splitCommandLine(value)) {
          const eq = pair.indexOf('=');
          if (eq > 0) environment.set(pair.slice(0, eq), pair.slice(eq + 1));
        }
      } else if (key === 'EnvironmentFile' && value !== '') {
        environmentFiles.push(value.replace(/^-/, ''));
      }
    }
  }
  const last = exec.at(-1);
  if (last === undefined) return { argv: undefined, environment, environmentFiles };
  const words = splitCommandLine(last.replace(/^[-@:+!]+/, '')).map((w) => expand(w, environment));
  return { argv: words, environment, environmentFiles };
}

/** `KEY=value` lines of an environment file (`#` comments, optional quotes). */
export function parseEnvironmentFile(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim().replace(/^export\s+/, '');
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const value = splitCommandLine(line.slice(eq + 1))[0] ?? '';
    out.set(line.slice(0, eq).trim(), value);
  }
  return out;
}

export function expand(word: string, env: ReadonlyMap<string, string>): string {
  return word.replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string | undefined, b: string | undefined) => {
    const name = (a ?? b)!;
    return env.get(name) ?? '';
  });
}

/**
 * The value of a flag in an argv: `--flag value`, `--flag=value`, and the short forms given. The last
 * occurrence wins, as with Go's and urfave/cli's flag parsing.
 */
export function flagValue(argv: readonly string[], names: readonly string[]): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    for (const name of names) {
      if (word === name && i + 1 < argv.length) found = argv[i + 1];
      else if (word.startsWith(`${name}=`)) found = word.slice(name.length + 1);
    }
  }
  return found;
}

/** containerd's own flags for its root and config file. */
export const CONTAINERD_ROOT_FLAGS = ['--root'];
export const CONTAINERD_CONFIG_FLAGS = ['--config', '-c'];
/** k3s, rke2 and k0s take the data directory under which containerd's root lives. */
export const DATA_DIR_FLAGS = ['--data-dir', '-d'];

/** `data-dir:` of a k3s/rke2 `config.yaml` (a top-level scalar); undefined when the file does not set it. */
export function yamlDataDir(text: string): string | undefined {
  let found: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^data-dir\s*:\s*(.*?)\s*(#.*)?$/.exec(line);
    if (m) found = m[1]!.replace(/^(["'])(.*)\1$/, '$2');
  }
  return found === '' ? undefined : found;
}

/**
 * Two kata-deploy installs on one containerd 2.1 node under a temp host root, run in-process: A unsuffixed,
 * B with MULTI_INSTALL_SUFFIX=coco. Shared by the unit tests of installing and cleaning them up in every order
 * (src/lifecycle/multi-install*.test.ts): the operator's configs, the runs, a run killed after step n, and
 * snapshots of the tree.
 */
import { createHash } from 'node:crypto';
import { cp, mkdir, readFile, readdir, lstat, readlink, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHost, parseInstallState, type InstallState } from '../../src/host/index.js';
import { silentLogger } from '../../src/output/log.js';
import { loadSettings, type Settings } from '../../src/settings/index.js';
import { applySteps } from '../../src/lifecycle/apply.js';
import { observe } from '../../src/lifecycle/observe.js';
import { planCleanup } from '../../src/lifecycle/plan-cleanup.js';
import { planInstall } from '../../src/lifecycle/plan-install.js';
import { runLifecycle } from '../../src/lifecycle/run.js';
import type { Step } from '../../src/lifecycle/steps.js';
import { judgeRestart } from '../../src/lifecycle/verify/verdict.js';
import type { Verifier } from '../../src/lifecycle/verify/verifier.js';
import { idleServices } from './idle-services.js';

const PAYLOAD = resolve(dirname(fileURLToPath(import.meta.url)), '../fixtures/payload');
export const CONFIG_FILE = 'etc/containerd/config.toml';

/** `containerd config default` of 2.1, as an operator left it: tabs, trailing blanks, a comment. */
export const CONTAINERD_21 = [
  '# containerd 2.1, edited by hand',
  'version = 3',
  "root = '/var/lib/containerd'",
  "state = '/run/containerd'",
  "temp = ''",
  'disabled_plugins = []',
  'required_plugins = []',
  'oom_score = 0',
  'imports = []',
  '',
  '[grpc]\t  ',
  "\taddress = '/run/containerd/containerd.sock'   ",
  "  tcp_address = ''",
  '\tuid = 0\t',
  '  gid = 0',
  '  max_recv_message_size = 16777216',
  '',
  '[debug]',
  "    level = ''   # quiet",
  '',
  '[plugins]',
  "  [plugins.'io.containerd.cri.v1.images']",
  "    snapshotter = 'overlayfs'",
  '',
  "    [plugins.'io.containerd.cri.v1.images'.pinned_images]",
  "      sandbox = 'registry.k8s.io/pause:3.10'",
  '',
  "  [plugins.'io.containerd.cri.v1.runtime']",
  '\tenable_selinux = false  ',
  "    [plugins.'io.containerd.cri.v1.runtime'.containerd]",
  "      default_runtime_name = 'runc'",
  '',
].join('\n');

/** Configs that have an `imports` list: the first install adds its entry to a list the operator wrote. */
export const WITH_IMPORTS: Record<string, string> = {
  'containerd 2.1 defaults edited by hand': CONTAINERD_21,
  'an imports list of the operator’s': CONTAINERD_21.replace(
    'imports = []',
    "imports = [ '/etc/containerd/site.toml' ]   # site policy",
  ),
  'an empty imports list with blanks and a comment': CONTAINERD_21.replace(
    'imports = []',
    'imports = [ ]\t# none yet',
  ),
  'an imports list over several lines': CONTAINERD_21.replace(
    'imports = []',
    "imports = [\n  '/etc/containerd/site.toml',\n\t'/etc/containerd/gpu.toml',  \n]",
  ),
};

/**
 * Configs where the first install creates what the second one then only adds to: the `imports` list, or the
 * whole file (the common containerd 2.x node, which runs on its built-in defaults).
 */
export const SHARED_ORIGIN: Record<string, string | undefined> = {
  'no imports line': CONTAINERD_21.replace('imports = []\n', ''),
  'no config file': undefined,
};

export type Op = 'install A' | 'install B' | 'cleanup A' | 'cleanup B';

/** Every order of two installs, each cleaned up after it was installed. */
export const ORDERS: readonly (readonly Op[])[] = [
  ['install A', 'cleanup A', 'install B', 'cleanup B'],
  ['install A', 'install B', 'cleanup A', 'cleanup B'],
  ['install A', 'install B', 'cleanup B', 'cleanup A'],
  ['install B', 'install A', 'cleanup A', 'cleanup B'],
  ['install B', 'install A', 'cleanup B', 'cleanup A'],
  ['install B', 'cleanup B', 'install A', 'cleanup A'],
];

const services = idleServices();

const verifier = (): Verifier => ({
  recordCriBefore: async () => ({ state: 'serves', handlers: [] }),
  restart: async () => {},
  verify: async (handlers, expect) =>
    judgeRestart({
      expect,
      handlers,
      criBefore: undefined,
      containerd: { state: 'answers', version: '2.1.9' },
      cri: { state: 'serves', handlers: expect === 'present' ? handlers : [] },
      dump: { state: 'not-applicable', reason: 'no containerd here' },
    }),
});

export const STATE_FILES = {
  A: 'var/lib/kata-deploy/install.json',
  B: 'var/lib/kata-deploy/install-coco.json',
} as const;

export interface TwoInstallsOptions {
  /** A payload dir (holding `opt/kata/`) other than test/fixtures/payload. */
  readonly payload?: string;
  /** SHIMS_X86_64 of both installs (default `qemu clh`). */
  readonly shims?: string;
}

/**
 * A payload of one shim's files only, under `dir` (for the many runs of the kill tests): the shim binary and
 * the QEMU configuration of test/fixtures/payload.
 */
export async function smallPayload(dir: string): Promise<string> {
  for (const rel of [
    'opt/kata/bin/containerd-shim-kata-v2',
    'opt/kata/share/defaults/kata-containers/configuration-qemu.toml',
  ]) {
    await mkdir(dirname(join(dir, rel)), { recursive: true });
    await cp(join(PAYLOAD, rel), join(dir, rel));
  }
  return dir;
}

export class TwoInstalls {
  constructor(
    readonly root: string,
    private readonly options: TwoInstallsOptions = {},
  ) {}

  /** An empty root with /etc/containerd (and `dirs`), holding `config` as containerd's config, if any. */
  async layOut(config: string | undefined, dirs: readonly string[] = []): Promise<void> {
    for (const name of await readdir(this.root))
      await rm(join(this.root, name), { recursive: true, force: true });
    for (const dir of ['etc/containerd', ...dirs]) await mkdir(join(this.root, dir), { recursive: true });
    if (config !== undefined) await writeFile(join(this.root, CONFIG_FILE), config);
  }

  settings(op: Op, env: Record<string, string> = {}): Settings {
    return loadSettings({
      env: {
        NODE_NAME: 'n',
        SHIMS_X86_64: this.options.shims ?? 'qemu clh',
        CONTAINER_RUNTIME_VERSION: 'containerd://2.1.9',
        ...(op.endsWith('B') ? { MULTI_INSTALL_SUFFIX: 'coco' } : {}),
        ...env,
      },
      flags: {
        hostRoot: this.root,
        artifactsDir: this.options.payload ?? PAYLOAD,
        runtime: 'containerd',
        serviceManager: 'process',
      },
      arch: 'x86_64',
    });
  }

  private host() {
    return createHost({ root: this.root, serviceManager: services });
  }

  async run(op: Op, env: Record<string, string> = {}): Promise<void> {
    await runLifecycle(op.startsWith('install') ? 'install' : 'cleanup', {
      settings: this.settings(op, env),
      host: this.host(),
      log: silentLogger,
      verifier,
    });
  }

  /** The plan `op` would run now. */
  async plan(op: Op): Promise<Step[]> {
    const settings = this.settings(op);
    const install = op.startsWith('install');
    const seen = await observe({ settings, host: this.host(), log: silentLogger, withArtifacts: install });
    const observed = { ...seen, snapshotterFacts: new Map() };
    return install ? planInstall(settings, observed, []) : planCleanup(settings, observed, []);
  }

  /** `op` killed right after step n: its first n steps applied, as KATA_DEPLOY_TEST_CRASH_AFTER_STEP leaves it. */
  async crash(op: Op, n: number): Promise<void> {
    const settings = this.settings(op);
    const steps = await this.plan(op);
    await applySteps(steps.slice(0, n), {
      host: this.host(),
      names: (await observe({ settings, host: this.host(), log: silentLogger, withArtifacts: false })).names,
      log: silentLogger,
      verifier: verifier(),
      command: op.split(' ')[0]!,
      outcomes: new Map(),
      verifications: [],
    });
  }

  config(): Promise<string | undefined> {
    return readFile(join(this.root, CONFIG_FILE), 'utf8').catch(() => undefined);
  }

  async state(which: 'A' | 'B'): Promise<InstallState | undefined> {
    const path = join(this.root, STATE_FILES[which]);
    const text = await readFile(path, 'utf8').catch(() => undefined);
    return text === undefined ? undefined : parseInstallState(text, path);
  }

  /**
   * What is wrong with the installs' records of the config file, as long as nobody but kata-deploy edited it:
   * each must name the operator's `original` (or say the file was created), and while one says it existed its
   * bytes must be on the node: in a backup one of the records names, or in the file itself (a cleanup killed
   * after giving it back).
   */
  async originProblems(original: string | undefined): Promise<string[]> {
    const out: string[] = [];
    const copies: (string | undefined)[] = [await this.config()];
    for (const which of ['A', 'B'] as const) {
      const record = (await this.state(which))?.files[`/${CONFIG_FILE}`];
      if (record === undefined) continue;
      if (original === undefined) {
        if (record.origin !== 'created')
          out.push(`${which}: origin ${record.origin}, but the file did not exist`);
        continue;
      }
      if (record.origin !== 'existing' || record.originalSha256 !== sha256(original))
        out.push(`${which}: its record does not name the operator's original`);
      if (record.backupFile !== undefined)
        copies.push(await readFile(join(this.root, record.backupFile), 'utf8').catch(() => undefined));
    }
    if (original !== undefined && copies.length > 1 && !copies.includes(original))
      out.push('the original is neither in the file nor in a backup a record names');
    return out;
  }

  /** Every file, link and directory under the root (the lock's run/ excluded), files by their bytes' hash. */
  async snapshot(rel = ''): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const name of (await readdir(join(this.root, rel))).sort()) {
      const r = rel === '' ? name : `${rel}/${name}`;
      if (r === 'run') continue;
      const st = await lstat(join(this.root, r));
      if (st.isDirectory()) Object.assign(out, { [`${r}/`]: 'dir' }, await this.snapshot(r));
      else if (st.isSymbolicLink()) out[r] = `link ${await readlink(join(this.root, r))}`;
      else out[r] = sha256(await readFile(join(this.root, r)));
    }
    return out;
  }
}

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The lines of `text` outside the `imports = [ … ]` statement, the one kata-deploy adds its entry to. */
export function linesOutsideImports(text: string): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith('imports'));
  if (start === -1) return lines;
  const end = lines.findIndex((l, i) => i >= start && /\]\s*(#.*)?$/.test(l));
  return lines.filter((_, i) => i < start || i > end);
}

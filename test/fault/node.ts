/**
 * A temporary host root laid out like a node, for the fault suite: the operator's containerd config and, when
 * asked, a real containerd (1.6, 1.7 or 2.1 from the bed) run by kata-deploy's process supervisor (see
 * test/support/node-root.ts). The built CLI runs against it with a private TMPDIR, which must stay empty:
 * nothing of kata-deploy's may land in the machine's /tmp.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { containerdBinaries, type ContainerdVersion, type RunResult } from '../bed/index.js';
import { runCli, REPO_ROOT } from '../support/cli.js';
import { snapshotTree } from '../support/node-tree.js';
import { containerdServiceSpec, nodeContainerdConfig, waitContainerdAnswer } from '../support/node-root.js';
import { createHost, type Host } from '../../src/host/index.js';

export const PAYLOAD = join(REPO_ROOT, 'test/fixtures/payload');
export const HANDLERS = ['kata-qemu', 'kata-qemu-runtime-rs', 'kata-clh'];
export const UNIT = 'containerd.service';
/** kata-deploy's temp files (`.<name>.kata-deploy-<pid>-<hex>`), as the operator would look for them. */
const TEMP_FILE = /^\..+\.kata-deploy-\d+-[0-9a-f]{8}$/;
/** What containerd itself changes under the root; everything else must come back byte for byte. */
const VOLATILE = new Set(['run', 'var/lib/containerd', 'var/lib/containerd-opt', 'var/log']);

export interface CliOptions {
  readonly env?: Record<string, string>;
  readonly extra?: readonly string[];
  /** KATA_DEPLOY_TEST_FAULT */
  readonly fault?: string;
  /** KATA_DEPLOY_TEST_CRASH_AFTER_STEP */
  readonly crashAfterStep?: number;
}

export interface FaultNode {
  readonly root: string;
  readonly version: ContainerdVersion;
  readonly host: Host;
  cli(action: string, options?: CliOptions): Promise<RunResult>;
  /** Files, links and directories with modes and hashes; `all` includes what containerd changes (run/, …). */
  snapshot(all?: boolean): Promise<Record<string, string>>;
  /** kata-deploy temp files anywhere under the root. */
  temps(): Promise<string[]>;
  /** Live containerd processes of this root (their environment names it). */
  containerds(): Promise<number[]>;
  dispose(): Promise<void>;
}

export interface NodeOptions {
  readonly version: ContainerdVersion;
  /** Start containerd (default true); without it, settings say which version the node runs. */
  readonly containerd?: boolean;
  /** Reshape the root before containerd starts (symlinked directories, …). */
  readonly layout?: (root: string) => Promise<void>;
}

const nodes: FaultNode[] = [];

/** Stops every node still up (call from `after`). */
export async function disposeNodes(): Promise<void> {
  for (const n of nodes.splice(0)) await n.dispose();
}

export async function startNode(options: NodeOptions): Promise<FaultNode> {
  const { version } = options;
  const bins = containerdBinaries(version);
  const root = await mkdtemp('/tmp/kdf-');
  const tmp = await mkdtemp('/tmp/kdf-tmpdir-');
  for (const d of ['etc/containerd', 'etc/kata-deploy/services', 'etc/cni/net.d', 'var/lib/containerd'])
    await mkdir(join(root, d), { recursive: true });
  await writeFile(join(root, 'etc/containerd/config.toml'), nodeContainerdConfig(root, version));
  await writeFile(
    join(root, 'etc/kata-deploy/services', `${UNIT}.json`),
    containerdServiceSpec({ root, bin: bins.containerd, shimDir: bins.shimDir }),
  );
  await options.layout?.(root);
  const host = createHost({ root, serviceManager: 'process' });
  const withContainerd = options.containerd ?? true;
  if (withContainerd) {
    await mkdir(join(root, 'run/containerd'), { recursive: true });
    await host.services.start(UNIT);
    await waitContainerdAnswer(join(root, 'run/containerd/containerd.sock'));
  }
  const node: FaultNode = {
    root,
    version,
    host,
    async cli(action, o = {}) {
      const args = [action, '--host-root', root, '--service-manager', 'process', '--runtime', 'containerd'];
      if (withContainerd) args.push('--containerd-bin', bins.containerd);
      if (action === 'install') args.push('--artifacts-dir', PAYLOAD);
      const env: Record<string, string> = {
        NODE_NAME: 'fault-node',
        SHIMS_X86_64: HANDLERS.map((h) => h.slice(5)).join(' '),
        TMPDIR: tmp,
        ...(withContainerd ? {} : { CONTAINER_RUNTIME_VERSION: `containerd://${bins.fullVersion}` }),
        ...(o.fault ? { KATA_DEPLOY_TEST_FAULT: o.fault } : {}),
        ...(o.crashAfterStep ? { KATA_DEPLOY_TEST_CRASH_AFTER_STEP: String(o.crashAfterStep) } : {}),
        ...o.env,
      };
      const r = await runCli([...args, ...(o.extra ?? [])], { env, timeoutMs: 120_000 });
      assert.deepEqual(await readdir(tmp), [], `${action} left files in its TMPDIR`);
      return r;
    },
    snapshot: (all = false) => snapshotTree(root, all ? new Set() : VOLATILE),
    temps: () => temps(root),
    containerds: () => containerdsOf(root),
    async dispose() {
      if (withContainerd) await host.services.stop(UNIT).catch(() => undefined);
      for (const pid of await containerdsOf(root)) process.kill(pid, 'SIGKILL');
      await rm(root, { recursive: true, force: true });
      await rm(tmp, { recursive: true, force: true });
    },
  };
  nodes.push(node);
  return node;
}

async function temps(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (TEMP_FILE.test(e.name) || e.name.endsWith('.starting')) found.push(join(dir, e.name));
    if (e.isDirectory()) found.push(...(await temps(join(dir, e.name))));
  }
  return found;
}

/** containerd processes whose environment carries this root (the service spec sets ROOT=<root>). */
export async function containerdsOf(root: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const comm = (await readFile(`/proc/${name}/comm`, 'utf8').catch(() => '')).trim();
    if (comm !== 'containerd') continue;
    const environ = await readFile(`/proc/${name}/environ`, 'utf8').catch(() => '');
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    if (environ.split('\0').includes(`ROOT=${root}`) && !/\) [ZX] /.test(stat)) pids.push(Number(name));
  }
  return pids;
}

/** The plan's steps, from a dry run. */
export async function planOf(node: FaultNode, action: string): Promise<{ kind: string; path?: string }[]> {
  const r = await node.cli(action, { extra: ['--dry-run', '--json'] });
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { steps: { kind: string; path?: string }[] }).steps;
}

export function assertOk(r: RunResult, what: string): void {
  assert.equal(r.code, 0, `${what} failed (${r.code ?? r.signal}):\n${r.stderr}\n${r.stdout}`);
}

export function assertKilled(r: RunResult, what: string): void {
  assert.equal(r.signal, 'SIGKILL', `${what} was not killed (exit ${r.code}):\n${r.stderr}`);
}

/**
 * Golden files for the containerd configuration kata-deploy writes, per config version, containerd version and
 * distribution. Each case directory holds `input.toml` (the main config before install; absent = missing) and
 * `after-install/<node path>` for every file install writes. Bytes are compared; regenerate with
 * KATA_DEPLOY_UPDATE_GOLDEN=1 and review the diff. Every case also checks that reinstalling changes nothing and
 * that cleanup gives back the input byte for byte (untouched, and with a user edit made after install).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSettings, type RuntimeName } from '../../src/settings/index.js';
import { deriveNames } from '../../src/names/index.js';
import {
  chooseLayout,
  fileRecordFor,
  kataConfigEdit,
  parseContainerdVersion,
  planConfigCleanup,
  planConfigInstall,
  type ConfigFileChange,
} from '../../src/containerd/config/index.js';
import type { FileRecord } from '../../src/host/index.js';

const here = join(dirname(fileURLToPath(import.meta.url)), 'containerd');
const update = process.env['KATA_DEPLOY_UPDATE_GOLDEN'] === '1';

interface Case {
  readonly name: string;
  readonly runtime: RuntimeName;
  readonly containerd: string;
  readonly env?: Record<string, string>;
}

const CASES: readonly Case[] = [
  { name: 'containerd-1.6-v1', runtime: 'containerd', containerd: '1.6.20' },
  { name: 'containerd-1.6-default-v2', runtime: 'containerd', containerd: '1.6.20' },
  { name: 'containerd-1.6-missing', runtime: 'containerd', containerd: '1.6.20' },
  {
    name: 'containerd-1.7-v2-debug-nydus',
    runtime: 'containerd',
    containerd: '1.7.24',
    env: { DEBUG: 'true', SNAPSHOTTER_HANDLER_MAPPING_X86_64: 'qemu:nydus' },
  },
  { name: 'containerd-2.1-default-v3', runtime: 'containerd', containerd: '2.1.9' },
  { name: 'containerd-2.1-missing', runtime: 'containerd', containerd: '2.1.9' },
  { name: 'containerd-2.1-confd', runtime: 'containerd', containerd: '2.1.9' },
  { name: 'containerd-2.1-v2-config', runtime: 'containerd', containerd: '2.1.9' },
  {
    name: 'containerd-2.3-v4-suffix',
    runtime: 'containerd',
    containerd: '2.3.0',
    env: { MULTI_INSTALL_SUFFIX: 'coco', SNAPSHOTTER_HANDLER_MAPPING_X86_64: 'qemu-runtime-rs:nydus' },
  },
  { name: 'k3s-v3', runtime: 'k3s', containerd: '2.1.5' },
  // containerd 2.x: on 1.x this drop-in would replace the rendered CRI table, and install refuses (cri-tables.ts).
  { name: 'rke2-v2', runtime: 'rke2-agent', containerd: '2.0.4' },
  { name: 'k0s-2.1', runtime: 'k0s-worker', containerd: '2.1.4' },
  { name: 'microk8s-1.7', runtime: 'microk8s', containerd: '1.7.27' },
  { name: 'microk8s-2.1', runtime: 'microk8s', containerd: '2.1.3' },
];

function setup(c: Case) {
  const settings = loadSettings({
    env: { NODE_NAME: 'n', SHIMS_X86_64: 'qemu qemu-runtime-rs clh', ...c.env },
    arch: 'x86_64',
  });
  return { settings, names: deriveNames(settings, c.runtime) };
}

function install(c: Case, files: Map<string, string | undefined>, recorded: Record<string, FileRecord>) {
  const { settings, names } = setup(c);
  const containerdVersion = parseContainerdVersion(c.containerd)!;
  const layout = chooseLayout(settings, names, { containerdVersion, mainConfig: files.get(names.containerd.configFile) });
  const edit = kataConfigEdit({ configVersion: layout.configVersion, handlers: names.handlers, debug: settings.debug });
  const backups = new Map<string, string | undefined>([[names.containerd.backupFile, undefined]]);
  const changes = planConfigInstall(layout, edit, { files, recorded, backups });
  return { names, changes };
}

function record(changes: ConfigFileChange[], files: Map<string, string | undefined>, backupFile: string) {
  const recorded: Record<string, FileRecord> = {};
  for (const ch of changes) recorded[ch.path] = fileRecordFor(ch, undefined, files.get(ch.path), backupFile);
  return recorded;
}

function apply(files: Map<string, string | undefined>, changes: ConfigFileChange[]) {
  const out = new Map(files);
  for (const ch of changes) out.set(ch.path, ch.content);
  return out;
}

describe('golden containerd configuration', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const inputPath = join(here, c.name, 'input.toml');
      const input = existsSync(inputPath) ? readFileSync(inputPath, 'utf8') : undefined;
      const mainFile = setup(c).names.containerd.configFile;
      const before = new Map<string, string | undefined>([[mainFile, input]]);
      const { names, changes } = install(c, before, {});

      const goldenDir = join(here, c.name, 'after-install');
      if (update) {
        rmSync(goldenDir, { recursive: true, force: true });
        for (const ch of changes) {
          if (ch.content === undefined) continue;
          mkdirSync(dirname(join(goldenDir, ch.path)), { recursive: true });
          writeFileSync(join(goldenDir, ch.path), ch.content);
        }
      }
      const expectedFiles = listFiles(goldenDir);
      assert.deepEqual(changes.map((ch) => ch.path).sort(), expectedFiles.sort(), 'files written');
      for (const ch of changes) assert.equal(ch.content, readFileSync(join(goldenDir, ch.path), 'utf8'), ch.path);

      // Reinstall: nothing changes.
      const installed = apply(before, changes);
      const recorded = record(changes, before, names.containerd.backupFile);
      const backups = new Map([[names.containerd.backupFile, input]]);
      const again = install(c, installed, recorded).changes;
      for (const ch of again) assert.equal(ch.content, installed.get(ch.path), `reinstall changed ${ch.path}`);

      // Cleanup, untouched since install: the input comes back byte for byte, drop-ins go.
      const fallback = { dropIns: [], mainFile, edit: { tables: [], values: [], arrayEntries: [] } };
      const cleaned = apply(installed, planConfigCleanup({ files: installed, recorded, backups }, fallback));
      assert.equal(cleaned.get(mainFile), input, 'main config after cleanup');
      for (const ch of changes) if (ch.path !== mainFile) assert.equal(cleaned.get(ch.path), undefined, ch.path);

      // Cleanup after the user edited the main file: their edit stays, kata-deploy's part goes.
      if (changes.some((ch) => ch.path === mainFile) && input !== undefined) {
        const edited = new Map(installed).set(mainFile, `# edited after install\n${installed.get(mainFile)}`);
        const afterEdit = apply(edited, planConfigCleanup({ files: edited, recorded, backups }, fallback));
        assert.equal(afterEdit.get(mainFile), `# edited after install\n${input}`);
      }
    });
  }
});

function listFiles(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name), `${prefix}/${e.name}`) : [`${prefix}/${e.name}`],
  );
}

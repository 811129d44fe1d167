import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSettings, type Settings } from '../../settings/index.js';
import { deriveNames, NYDUS_PAYLOAD } from '../../names/index.js';
import { applyEdit } from '../../containerd/config/edit.js';
import { parseToml } from '../../containerd/config/toml.js';
import { describeStep, type Step } from '../steps.js';
import type { Observed } from '../observe.js';
import { nydusHook, servicePath, type NydusFacts } from './nydus.js';
import { renderTemplate } from './template.js';
import { wipe } from './gather.js';
import { describeOutcome } from './outcome.js';

const PAYLOAD = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/payload');
const template = (name: string) => readFileSync(join(PAYLOAD, 'nydus-snapshotter', name), 'utf8');

function settingsWith(env: Record<string, string> = {}, flags: Record<string, string> = {}): Settings {
  return loadSettings({
    env: { NODE_NAME: 'n', SHIMS_X86_64: 'qemu', EXPERIMENTAL_SETUP_SNAPSHOTTER: 'nydus', ...env },
    flags: { hostRoot: '/sandbox', artifactsDir: PAYLOAD, serviceManager: 'process', ...flags },
    arch: 'x86_64',
  });
}

function ctx(settings: Settings, facts: Partial<NydusFacts> = {}, configVersion = 3) {
  const names = deriveNames(settings, 'containerd');
  const full: NydusFacts = {
    payload: {
      grpcBinary: '/payload/containerd-nydus-grpc',
      overlayfsBinary: '/payload/nydus-overlayfs',
      configTemplate: template(NYDUS_PAYLOAD.configTemplate),
      unitTemplate: template(NYDUS_PAYLOAD.unitTemplate),
      serviceSpecTemplate: template(NYDUS_PAYLOAD.serviceSpecTemplate),
    },
    serviceDefined: false,
    dataDirExists: false,
    ...facts,
  };
  const observed = { existingDirs: new Set<string>() } as unknown as Observed;
  return { settings, names, observed, configVersion, facts: full };
}

const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));
const kinds = (steps: readonly Step[]) =>
  steps.map((s) => (s.kind === 'service' ? `service ${s.action}` : s.kind));

describe('nydus hook: install plan', () => {
  it('fresh install: binaries, config, service spec, start; no records step', () => {
    const steps = nydusHook.planInstall(ctx(settingsWith()));
    assert.deepEqual(kinds(steps), [
      'mkdir',
      'copyFile',
      'copyFile',
      'writeFile',
      'writeFile',
      'service restart',
    ]);
    const config = steps.find((s) => s.kind === 'writeFile' && s.path.endsWith('.toml'));
    assert.ok(config?.kind === 'writeFile');
    const doc = parseToml(config.content, 'config');
    assert.equal(doc['version'], 1);
    assert.equal(doc['root'], '/sandbox/var/lib/nydus-for-kata-tee');
    assert.equal(doc['address'], '/sandbox/run/nydus-for-kata-tee/containerd-nydus-grpc.sock');
    assert.deepEqual(plain(doc['daemon']), { fs_driver: 'proxy' });
    assert.deepEqual(plain(doc['snapshot']), {
      enable_kata_volume: true,
      nydus_overlayfs_path: '/sandbox/opt/kata/nydus-for-kata-tee/nydus-overlayfs',
    });
    const spec = steps.find((s) => s.kind === 'writeFile' && s.path.endsWith('.json'));
    assert.ok(spec?.kind === 'writeFile');
    assert.equal(spec.path, '/etc/kata-deploy/services/nydus-for-kata-tee.service.json');
    assert.deepEqual(JSON.parse(spec.content), {
      command: '/sandbox/opt/kata/nydus-for-kata-tee/containerd-nydus-grpc',
      args: ['--config', '/sandbox/opt/kata/nydus-for-kata-tee/config-guest-pulling.toml', '--log-to-stdout'],
      logFile: '/var/log/nydus-for-kata-tee.log',
    });
  });

  it('upgrade: records cleaned while it runs, then stop, then the gated wipe, before anything is replaced', () => {
    const steps = nydusHook.planInstall(ctx(settingsWith(), { serviceDefined: true, dataDirExists: true }));
    assert.deepEqual(kinds(steps).slice(0, 4), [
      'cleanSnapshotterRecords',
      'service stop',
      'wipeSnapshotterData',
      'mkdir',
    ]);
    assert.match(describeStep(steps[2]!), /only if no record of nydus-for-kata-tee is left/);
  });

  it('preserve: stops it but never cleans records or wipes', () => {
    const settings = settingsWith({ SNAPSHOTTER_DATA_POLICY: 'preserve' });
    const steps = nydusHook.planInstall(ctx(settings, { serviceDefined: true, dataDirExists: true }));
    assert.equal(kinds(steps)[0], 'service stop');
    assert.ok(!steps.some((s) => s.kind === 'wipeSnapshotterData' || s.kind === 'cleanSnapshotterRecords'));
    const flag = settingsWith(
      { SNAPSHOTTER_DATA_POLICY: 'clean-if-safe' },
      { snapshotterDataPolicy: 'preserve' },
    );
    assert.equal(flag.snapshotterDataPolicy, 'preserve', 'the flag wins over the variable');
  });

  it('systemd: node paths, a unit bound to the CRI unit, enabled', () => {
    const settings = settingsWith(
      { MULTI_INSTALL_SUFFIX: 'coco' },
      { serviceManager: 'systemd', hostRoot: '/host' },
    );
    const steps = nydusHook.planInstall(ctx(settings));
    const unit = steps.find((s) => s.kind === 'writeFile' && s.path.endsWith('.service'));
    assert.ok(unit?.kind === 'writeFile');
    assert.equal(unit.path, '/etc/systemd/system/nydus-for-kata-tee-coco.service');
    assert.match(
      unit.content,
      /^ExecStart=\/opt\/kata-coco\/nydus-for-kata-tee\/containerd-nydus-grpc --config \/opt\/kata-coco\/nydus-for-kata-tee\/config-guest-pulling.toml --log-to-stdout$/m,
    );
    assert.match(unit.content, /^Before=containerd.service$/m);
    assert.match(unit.content, /^WantedBy=containerd.service$/m);
    assert.ok(kinds(steps).includes('service enable'));
    assert.equal(servicePath(settings, '/var/lib/x'), '/var/lib/x');
  });

  it('readiness after containerd restarted, bounded by --restart-timeout', () => {
    const ready = nydusHook.planInstallReady?.(ctx(settingsWith({}, { restartTimeout: '30000' })));
    assert.deepEqual(ready, [
      { kind: 'waitSnapshotter', snapshotter: 'nydus-for-kata-tee', timeoutMs: 30000 },
    ]);
  });
});

describe('nydus hook: containerd edit', () => {
  for (const [version, annotations] of [
    [3, '[plugins."io.containerd.cri.v1.images"]'],
    [2, '[plugins."io.containerd.grpc.v1.cri".containerd]'],
  ] as const) {
    it(`config v${version}: proxy plugin with address and exports.root, annotations on`, () => {
      const settings = settingsWith({ MULTI_INSTALL_SUFFIX: 'coco' });
      const edit = nydusHook.containerdEdit(ctx(settings, {}, version));
      const text = applyEdit('', edit, 'drop-in').text;
      const doc = parseToml(text, 'drop-in');
      assert.deepEqual(plain((doc['proxy_plugins'] as Record<string, unknown>)['nydus-for-kata-tee-coco']), {
        type: 'snapshot',
        address: '/sandbox/run/nydus-for-kata-tee-coco/containerd-nydus-grpc.sock',
        exports: { root: '/sandbox/var/lib/nydus-for-kata-tee-coco' },
      });
      assert.ok(text.includes(`${annotations}\ndisable_snapshot_annotations = false`), text);
    });
  }

  it('a config without a schema version is refused', () => {
    assert.throws(() => nydusHook.containerdEdit(ctx(settingsWith(), {}, 1)), /schema version/);
  });
});

describe('nydus hook: cleanup plan', () => {
  it('records, stop, wipe, then the service spec and the binaries', () => {
    const steps = nydusHook.planCleanup(ctx(settingsWith(), { serviceDefined: true, dataDirExists: true }));
    assert.deepEqual(kinds(steps), [
      'cleanSnapshotterRecords',
      'service stop',
      'wipeSnapshotterData',
      'removeFile',
      'removeTree',
    ]);
  });

  it('nothing of it on the node: no steps', () => {
    assert.deepEqual(nydusHook.planCleanup(ctx(settingsWith())), []);
  });
});

describe('templates', () => {
  const values = { ROOT_DIR: { value: '/var/lib/x', kind: 'path' as const } };
  it('refuses a value that could break out of its place', () => {
    for (const bad of ['/a"b', '/a b', '/a\nb', 'relative', '/a/../b', '/a%b']) {
      assert.throws(
        () =>
          renderTemplate('root = "@ROOT_DIR@"\n', { ROOT_DIR: { value: bad, kind: 'path' } }, 'toml', 't'),
        /cannot render @ROOT_DIR@/,
      );
    }
  });
  it('refuses an unknown placeholder and a result that does not parse', () => {
    assert.throws(() => renderTemplate('x = "@NOPE@"\n', values, 'toml', 't'), /unknown placeholder @NOPE@/);
    assert.throws(() => renderTemplate('x = @ROOT_DIR@\n', values, 'toml', 't'), /valid TOML/);
    assert.throws(() => renderTemplate('{"command": "x"}', values, 'json', 't'), /valid JSON/);
  });
});

describe('the wipe gate', () => {
  const target = { snapshotter: 'nydus-for-kata-tee', socket: '/run/s.sock', dataDir: '/var/lib/n' };
  const io = new Proxy({}, { get: () => assert.fail('no I/O may happen without a wipe-safe verdict') });
  const gateCtx = { host: io, names: io, log: io } as never;
  it('keeps the data dir without a verdict from this run', async () => {
    const o = await wipe(gateCtx, target, undefined);
    assert.equal(o.decision, 'kept');
    assert.match(describeOutcome(o), /no verdict on its records was reached in this run/);
  });
  it('keeps it on a keep verdict and names what held it', async () => {
    const o = await wipe(gateCtx, target, {
      ...target,
      decision: 'keep',
      source: 'engine',
      records: 3,
      heldBy: [{ namespace: 'k8s.io', container: 'c1', taskStatus: 'RUNNING' }],
      reasons: ['k8s.io: container c1 kept (task RUNNING)'],
    });
    assert.equal(o.decision, 'kept');
    assert.match(describeOutcome(o), /held by k8s.io\/c1 \(task RUNNING\)/);
  });
});

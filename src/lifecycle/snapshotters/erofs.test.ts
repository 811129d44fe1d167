import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadSettings, type Settings } from '../../settings/index.js';
import { deriveNames } from '../../names/index.js';
import { applyEdit } from '../../containerd/config/edit.js';
import { getAt, parseToml } from '../../containerd/config/toml.js';
import { HostError, UsageError } from '../../errors/index.js';
import type { InstallState, SnapshotterRecord } from '../../host/index.js';
import type { SnapshotterHook } from '../hooks.js';
import type { Observed } from '../observe.js';
import { erofsEdit, erofsHook, refuseForContainerd, refuseForHost } from './erofs.js';
import { nydusHook, type NydusFacts } from './nydus.js';
import { planTransition, hooksOnNode } from './transition.js';
import { seen, notSeen } from '../../evidence/index.js';
import type { ErofsHostFacts } from '../../check/rules/erofs.js';

const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));
const V21 = { major: 2, minor: 1, patch: 9, raw: '2.1.9' };
const V22 = { major: 2, minor: 2, patch: 0, raw: '2.2.0' };
const ON_21 = { EROFS_SNAPSHOTTER_MODE: 'memory', EROFS_MERGE_MODE: 'unmerged', EROFS_FSVERITY: 'off' };

function settingsWith(env: Record<string, string> = {}): Settings {
  return loadSettings({
    env: {
      NODE_NAME: 'n',
      SHIMS_X86_64: 'qemu-runtime-rs qemu',
      EXPERIMENTAL_SETUP_SNAPSHOTTER: 'erofs',
      ...env,
    },
    flags: { hostRoot: '/sandbox', serviceManager: 'process' },
    arch: 'x86_64',
  });
}

const written = (settings: Settings, v = V22) =>
  parseToml(applyEdit('', erofsEdit(settings, 3, v), 'drop-in').text, 'drop-in');
const snap = ['plugins', 'io.containerd.snapshotter.v1.erofs'];
const differ = ['plugins', 'io.containerd.differ.v1.erofs'];

describe('erofs: what is written', () => {
  it("upstream's keys on containerd 2.2: disk and merged by default", () => {
    const doc = written(settingsWith());
    assert.equal(getAt(doc, ['plugins', 'io.containerd.cri.v1.images', 'discard_unpacked_layers']), false);
    assert.deepEqual(getAt(doc, ['plugins', 'io.containerd.service.v1.diff-service', 'default']), [
      'erofs',
      'walking',
    ]);
    assert.deepEqual(plain(getAt(doc, snap)), {
      enable_fsverity: true,
      set_immutable: true,
      dmverity_mode: 'off',
      default_size: '10G',
      max_unmerged_layers: 0,
    });
    assert.deepEqual(plain(getAt(doc, differ)), {
      mkfs_options: ['-T0', '--mkfs-time', '--sort=none'],
      enable_dmverity: false,
      enable_tar_index: false,
    });
  });

  it('memory mode, unmerged (the key is not written) and dm-verity on 2.2', () => {
    const doc = written(
      settingsWith({
        EROFS_SNAPSHOTTER_MODE: 'memory',
        EROFS_MERGE_MODE: 'unmerged',
        EROFS_DMVERITY: 'dmverity',
      }),
    );
    assert.equal(getAt(doc, [...snap, 'default_size']), '0');
    assert.equal(getAt(doc, [...snap, 'max_unmerged_layers']), undefined);
    assert.equal(getAt(doc, [...snap, 'dmverity_mode']), 'on');
    assert.equal(getAt(doc, [...differ, 'enable_dmverity']), true);
  });

  it('on 2.1 only the keys 2.1.9 has (config dump there ignores the others)', () => {
    const doc = written(settingsWith(ON_21), V21);
    assert.deepEqual(plain(getAt(doc, snap)), { enable_fsverity: false, set_immutable: true });
    assert.deepEqual(plain(getAt(doc, differ)), { mkfs_options: ['-T0', '--mkfs-time', '--sort=none'] });
  });
});

describe('erofs: refused before anything is written', () => {
  it('containerd older than 2.1, and settings only 2.2 carries, naming the version they need', () => {
    assert.throws(
      () => refuseForContainerd(settingsWith(ON_21), { major: 2, minor: 0, patch: 4, raw: '2.0.4' }),
      (e: unknown) => e instanceof UsageError && /needs containerd 2\.1 or later/.test(e.message),
    );
    assert.throws(
      () => refuseForContainerd(settingsWith(), V21),
      (e: unknown) =>
        e instanceof UsageError &&
        /EROFS_SNAPSHOTTER_MODE=disk .*EROFS_MERGE_MODE=merged .*need containerd 2\.2 or later.*2\.1\.9/.test(
          e.message,
        ) &&
        e.input === 'EROFS_SNAPSHOTTER_MODE',
    );
    assert.throws(
      () => refuseForContainerd(settingsWith({ ...ON_21, EROFS_DMVERITY: 'dmverity' }), V21),
      (e: unknown) => e instanceof UsageError && e.input === 'EROFS_DMVERITY',
    );
    refuseForContainerd(settingsWith(ON_21), V21);
    refuseForContainerd(settingsWith(), V22);
  });

  it('a host rule that fails refuses the install and says what is missing', () => {
    const host: ErofsHostFacts = {
      filesystems: { ok: true, value: 'nodev\toverlay\n\terofs\n' },
      modules: { kernelConfig: new Map([['MODULES', 'n']]) },
      mkfs: { kind: 'missing', searched: ['/usr/bin'] },
    };
    assert.throws(
      () => refuseForHost(settingsWith(ON_21), host),
      (e: unknown) => e instanceof HostError && /mkfs\.erofs: not found/.test(e.message),
    );
    const ok = {
      ...host,
      mkfs: { kind: 'found' as const, path: '/usr/bin/mkfs.erofs', output: 'mkfs.erofs (erofs-utils) 1.9.4' },
    };
    refuseForHost(settingsWith(ON_21), ok);
    assert.throws(
      () => refuseForHost(settingsWith({ ...ON_21, EROFS_FSVERITY: 'on' }), ok),
      /CONFIG_FS_VERITY/,
    );
  });
});

function observedWith(
  record: SnapshotterRecord | undefined,
  settings: Settings,
  facts: Map<string, unknown>,
): Observed {
  const state = record === undefined ? undefined : ({ snapshotters: record } as unknown as InstallState);
  return {
    names: deriveNames(settings, 'containerd'),
    state,
    existingDirs: new Set<string>(),
    snapshotterFacts: facts,
  } as unknown as Observed;
}

function transition(
  settings: Settings,
  record: SnapshotterRecord | undefined,
  nydus: Partial<NydusFacts>,
  siblingStates: InstallState[] = [],
) {
  const facts = new Map<string, unknown>([
    ['nydus', { payload: undefined, serviceDefined: true, dataDirExists: true, ...nydus }],
    ['erofs', { host: undefined }],
  ]);
  const observed = { ...observedWith(record, settings, facts), siblingStates } as Observed;
  const hooks: SnapshotterHook[] = [nydusHook, erofsHook];
  return planTransition(settings, observed, hooks, {
    settings,
    names: observed.names,
    observed,
    configVersion: 3,
  });
}

const NYDUS_BEFORE: SnapshotterRecord = { setup: ['nydus'], mapping: { 'kata-qemu': 'nydus-for-kata-tee' } };
const usage = (containers: number) => ({
  evidence: seen('meta-db', 'meta.db', 'read'),
  containers: Array.from({ length: containers }, (_, i) => ({ namespace: 'k8s.io', id: `c${i}` })),
});

describe('changing snapshotters: what the next install leaves behind', () => {
  it('nydus → erofs with a container on nydus: nydus keeps serving, its unneeded records are cleaned', () => {
    const t = transition(
      settingsWith({ ...ON_21, SNAPSHOTTER_HANDLER_MAPPING_X86_64: 'qemu:erofs' }),
      NYDUS_BEFORE,
      { usage: usage(1) },
    );
    assert.deepEqual(
      t.steps.map((s) => s.kind),
      ['cleanSnapshotterRecords'],
    );
    assert.deepEqual(
      t.retained.map((h) => h.name),
      ['nydus'],
    );
    assert.deepEqual(t.record, {
      setup: ['erofs'],
      mapping: { 'kata-qemu': 'erofs' },
      erofs: { mode: 'memory', merge: 'unmerged', dmverity: false, fsverity: false },
      retained: ['nydus'],
    });
  });

  it('nydus left with no container on it: the same steps as its cleanup, nothing retained', () => {
    const t = transition(settingsWith(ON_21), NYDUS_BEFORE, { usage: usage(0) });
    assert.deepEqual(
      t.steps.map((s) => (s.kind === 'service' ? `service ${s.action}` : s.kind)),
      ['cleanSnapshotterRecords', 'service stop', 'wipeSnapshotterData', 'removeFile', 'removeTree'],
    );
    assert.deepEqual(t.retained, []);
  });

  it('meta.db not read: nydus is never removed on missing evidence', () => {
    const t = transition(settingsWith(ON_21), NYDUS_BEFORE, {
      usage: { evidence: notSeen('meta-db', 'meta.db', 'not found'), containers: [] },
    });
    assert.deepEqual(
      t.retained.map((h) => h.name),
      ['nydus'],
    );
    assert.ok(!t.steps.some((s) => s.kind === 'wipeSnapshotterData'));
  });

  it('erofs merge mode or dm-verity changed: erofs records are cleaned (built in, never wiped); mode alone is not', () => {
    const before: SnapshotterRecord = {
      setup: ['erofs'],
      mapping: {},
      erofs: { mode: 'memory', merge: 'merged', dmverity: false, fsverity: false },
    };
    const rs = { SNAPSHOTTER_HANDLER_MAPPING_X86_64: 'qemu-runtime-rs:erofs' };
    const changed = transition(settingsWith({ ...ON_21, ...rs }), before, {});
    assert.deepEqual(plain(changed.steps), [
      {
        kind: 'cleanSnapshotterRecords',
        snapshotter: 'erofs',
        socket: '',
        dataDir: '<containerd root>/io.containerd.snapshotter.v1.erofs',
        builtIn: true,
      },
    ]);
    const sibling = transition(settingsWith({ ...ON_21, ...rs }), before, {}, [
      { snapshotters: { setup: ['erofs'], mapping: {} } } as unknown as InstallState,
    ]);
    assert.deepEqual(sibling.steps, [], 'another install on the node still uses erofs');
    const same = transition(
      settingsWith({ ...ON_21, ...rs, EROFS_MERGE_MODE: 'merged', EROFS_SNAPSHOTTER_MODE: 'disk' }),
      before,
      {},
    );
    assert.deepEqual(same.steps, []);
  });

  it("a snapshotter kata-deploy did not set up (overlayfs) is never left behind; an old state falls back to the node's nydus", () => {
    const t = transition(
      settingsWith({ EXPERIMENTAL_SETUP_SNAPSHOTTER: 'nydus' }),
      { setup: [], mapping: {} },
      {},
    );
    assert.deepEqual(t.steps, []);
    const noRecord = transition(settingsWith(ON_21), undefined, { usage: usage(0) });
    assert.ok(
      noRecord.steps.some((s) => s.kind === 'wipeSnapshotterData'),
      'nydus found on the node',
    );
  });

  it('cleanup covers what the state recorded, retained ones included', () => {
    const s = settingsWith({ EXPERIMENTAL_SETUP_SNAPSHOTTER: '' });
    assert.deepEqual(
      hooksOnNode(s, { setup: ['erofs'], mapping: {}, retained: ['nydus'] }, [nydusHook, erofsHook]).map(
        (h) => h.name,
      ),
      ['nydus', 'erofs'],
    );
    assert.deepEqual(hooksOnNode(s, undefined, [nydusHook, erofsHook]), []);
  });
});

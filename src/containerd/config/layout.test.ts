import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadSettings, type RuntimeName } from '../../settings/index.js';
import { deriveNames } from '../../names/index.js';
import { chooseLayout, type LayoutFacts } from './layout.js';
import { configVersionOf, parseContainerdVersion } from './version.js';
import { UsageError } from '../../errors/index.js';

const layout = (
  runtime: RuntimeName,
  version: string,
  main: string | undefined,
  env: Record<string, string> = {},
  more: Partial<LayoutFacts> = {},
) => {
  const settings = loadSettings({ env: { NODE_NAME: 'n', SHIMS_X86_64: 'qemu', ...env }, arch: 'x86_64' });
  return chooseLayout(settings, deriveNames(settings, runtime), {
    containerdVersion: parseContainerdVersion(version)!,
    mainConfig: main,
    ...more,
  });
};

describe('versions', () => {
  it('reads containerd --version output', () => {
    assert.deepEqual(
      parseContainerdVersion('containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3'),
      { major: 1, minor: 6, patch: 20, raw: '1.6.20~ds1' },
    );
    assert.equal(
      parseContainerdVersion('containerd github.com/containerd/containerd/v2 v2.1.9 abc')?.major,
      2,
    );
    assert.equal(
      parseContainerdVersion('containerd github.com/containerd/containerd/v2 2.1.9+unknown')?.minor,
      1,
    );
    assert.equal(parseContainerdVersion('nothing here'), undefined);
  });

  it('reads the config version before the first table only', () => {
    assert.equal(configVersionOf('# c\nversion = 3 # v\n[x]\n'), 3);
    assert.equal(configVersionOf('{{ template "base" . }}\nversion = 2\n'), 2);
    assert.equal(configVersionOf('[plugins]\nversion = 2\n'), undefined);
    assert.equal(configVersionOf(''), undefined);
  });
});

describe('chooseLayout', () => {
  it('edits the whole file on containerd 1.x', () => {
    assert.deepEqual(layout('containerd', '1.6.20', 'version = 2\n'), {
      mode: 'whole-file',
      file: '/etc/containerd/config.toml',
      configVersion: 2,
    });
    assert.equal(layout('containerd', '1.6.20', '# no version\n').configVersion, 1);
    assert.equal(layout('containerd', '1.7.1', undefined).configVersion, 2);
  });

  it('uses an imported drop-in on 2.x, or conf.d when it is already imported', () => {
    assert.equal(layout('containerd', '2.1.9', 'version = 3\n').mode, 'imported-drop-in');
    const confd = layout('containerd', '2.1.9', 'version = 3\nimports = ["conf.d/*.toml"]\n');
    assert.deepEqual(confd, {
      mode: 'loaded-drop-in',
      dropIn: '/etc/containerd/conf.d/kata-deploy.toml',
      configVersion: 3,
    });
  });

  it('refuses what the node cannot do', () => {
    assert.throws(() => layout('containerd', '1.7.24', undefined, { MULTI_INSTALL_SUFFIX: 'a' }), UsageError);
    assert.throws(
      () => layout('containerd', '1.6.20', undefined, { SNAPSHOTTER_HANDLER_MAPPING_X86_64: 'qemu:nydus' }),
      /needs containerd 1\.7/,
    );
    assert.throws(() => layout('k3s', '2.1.5', undefined), /cannot read the rendered k3s/);
    assert.throws(() => layout('k3s', '2.1.5', 'version = 3\n'), UsageError);
    assert.equal(
      layout('k0s-worker', '1.7.2', undefined, { MULTI_INSTALL_SUFFIX: 'a' }).mode,
      'loaded-drop-in',
    );
  });

  it('knows an import covers the conf.d drop-in only as containerd resolves it', () => {
    const text = (imports: string) => `version = 3\nimports = [${imports}]\n`;
    const covered = (imports: string) =>
      layout('containerd', '2.1.4', text(imports)).mode === 'loaded-drop-in';
    assert.ok(covered('"/etc/containerd/conf.d/*.toml"'));
    assert.ok(covered('"conf.d/*.toml"'), 'relative to the importing file');
    assert.ok(covered('"/etc/[cd]ontainerd/?onf.d/kata-*.toml"'));
    assert.ok(!covered('"conf.d/[z-a].toml"'), 'no star: a plain path, and a reversed range is no crash');
    assert.ok(!covered('"/etc/containerd/conf.d/x/*.toml"'));
  });
});

const K3S = '/var/lib/rancher/k3s/agent/etc/containerd';
const USER = { CONTAINERD_USER_DROP_IN_SOURCE_FILE: '/cfg/user.toml' };

describe('k3s/rke2 whose rendered config does not import the drop-in directory', () => {
  const refusal = (fn: () => unknown): UsageError => {
    try {
      fn();
    } catch (error) {
      assert.ok(error instanceof UsageError, String(error));
      return error;
    }
    assert.fail('not refused');
  };

  it('refuses with the exact remedy: the template to create and its two lines', () => {
    const e = refusal(() => layout('k3s', '2.1.5', 'version = 3\n'));
    assert.equal(e.input, `${K3S}/config.toml`);
    assert.match(
      e.message,
      /does not import \/var\/lib\/rancher\/k3s\/agent\/etc\/containerd\/config-v3\.toml\.d/,
    );
    assert.match(
      e.hint ?? '',
      /create \/var\/lib\/rancher\/k3s\/agent\/etc\/containerd\/config-v3\.toml\.tmpl with the two lines `imports = \["\/var\/lib\/rancher\/k3s\/agent\/etc\/containerd\/config-v3\.toml\.d\/\*\.toml"\]` and `\{\{ template "base" \. \}\}`, in that order, restart k3s\.service/,
    );
    assert.match(e.hint ?? '', /K3S_RKE2_TEMPLATE_IMPORT=true/);
  });

  it('names the line to add to a template of the operator’s, and never writes over it (opted in or not)', () => {
    const files = new Map([[`${K3S}/config-v3.toml.tmpl`, '{{ template "base" . }}\n[x]\n']]);
    for (const env of [{}, { K3S_RKE2_TEMPLATE_IMPORT: 'true' }] as Record<string, string>[]) {
      const e = refusal(() => layout('k3s', '2.1.5', 'version = 3\n', env, { files }));
      assert.equal(e.input, `${K3S}/config-v3.toml.tmpl`);
      assert.match(
        e.hint ?? '',
        /add the line `imports = \[.*config-v3\.toml\.d\/\*\.toml"\]` to .*config-v3\.toml\.tmpl before its first table/,
      );
    }
  });

  it('opted in: the template extension, base template included, import first', () => {
    const l = layout('rke2-agent', '2.1.5', 'version = 3\n', { K3S_RKE2_TEMPLATE_IMPORT: 'true' });
    const rke2 = '/var/lib/rancher/rke2/agent/etc/containerd';
    assert.ok(l.mode === 'loaded-drop-in');
    assert.equal(l.template?.path, `${rke2}/config-v3.toml.tmpl`);
    const lines = l.template!.content.split('\n').filter((x) => !x.startsWith('#') && x !== '');
    assert.deepEqual(lines, [`imports = ["${rke2}/config-v3.toml.d/*.toml"]`, '{{ template "base" . }}']);
    assert.match(l.template!.content, /rke2's own containerd template/);
  });

  it('a rendered config that imports the dir only through kata-deploy’s own template keeps it while opted in', () => {
    const rendered = `imports = ["${K3S}/config-v3.toml.d/*.toml"]\nversion = 3\n`;
    const recorded = new Set([`${K3S}/config-v3.toml.tmpl`]);
    const ours = new Map([[`${K3S}/config-v3.toml.tmpl`, 'whatever kata-deploy wrote']]);
    const kept = layout(
      'k3s',
      '2.1.5',
      rendered,
      { K3S_RKE2_TEMPLATE_IMPORT: 'true' },
      { recorded, files: ours },
    );
    assert.ok(kept.mode !== 'whole-file' && kept.template !== undefined);
    const e = refusal(() => layout('k3s', '2.1.5', rendered, {}, { recorded, files: ours }));
    assert.match(e.hint ?? '', /the template there now is kata-deploy's own/);
    // Named under a host root (a containerd run from one reads the node's paths there): imported too.
    const prefixed = layout(
      'k3s',
      '2.1.5',
      `imports = ["/tmp/x${K3S}/config-v3.toml.d/*.toml"]\nversion = 3\n`,
    );
    assert.ok(prefixed.mode !== 'whole-file' && prefixed.template === undefined);
    assert.throws(
      () => layout('k3s', '2.1.5', `imports = ["/tmp/x${K3S}/other.d/*.toml"]\nversion = 3\n`),
      UsageError,
    );
    // Imported by k3s itself: no template.
    const own = layout('k3s', '2.1.5', rendered, { K3S_RKE2_TEMPLATE_IMPORT: 'true' });
    assert.ok(own.mode !== 'whole-file' && own.template === undefined);
  });
});

describe("the operator's containerd drop-in", () => {
  it('goes beside kata-deploy’s drop-in and is imported after it where nothing loads it', () => {
    const imported = layout('containerd', '2.1.9', 'version = 3\n', USER);
    assert.deepEqual(imported.mode !== 'whole-file' && imported.userDropIn, {
      path: '/opt/kata/containerd/config.d/zz-kata-deploy-user.toml',
      importedBy: '/etc/containerd/config.toml',
    });
    const confd = layout('containerd', '2.1.9', 'version = 3\nimports = ["conf.d/*.toml"]\n', {
      ...USER,
      MULTI_INSTALL_SUFFIX: 'coco',
    });
    assert.deepEqual(confd.mode !== 'whole-file' && confd.userDropIn, {
      path: '/etc/containerd/conf.d/zz-kata-deploy-user-coco.toml',
      importedBy: undefined,
    });
    const exact = layout('containerd', '2.1.9', 'version = 3\nimports = ["conf.d/kata-deploy.toml"]\n', USER);
    assert.equal(exact.mode !== 'whole-file' && exact.userDropIn?.importedBy, '/etc/containerd/config.toml');
    const k0s = layout('k0s-worker', '2.1.2', undefined, USER);
    assert.deepEqual(k0s.mode !== 'whole-file' && k0s.userDropIn, {
      path: '/etc/k0s/containerd.d/zz-kata-deploy-user.toml',
      importedBy: undefined,
    });
  });

  it('is refused on containerd 1.x, whose file kata-deploy edits in place', () => {
    assert.throws(
      () => layout('containerd', '1.7.24', 'version = 2\n', USER),
      (e: unknown) =>
        e instanceof UsageError &&
        e.input === 'CONTAINERD_USER_DROP_IN_SOURCE_FILE' &&
        /needs containerd drop-in support/.test(e.message),
    );
  });
});

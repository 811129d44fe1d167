import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadSettings, type RuntimeName } from '../../settings/index.js';
import { deriveNames } from '../../names/index.js';
import { chooseLayout } from './layout.js';
import { configVersionOf, parseContainerdVersion } from './version.js';
import { HostError, UsageError } from '../../errors/index.js';

const layout = (
  runtime: RuntimeName,
  version: string,
  main: string | undefined,
  env: Record<string, string> = {},
) => {
  const settings = loadSettings({ env: { NODE_NAME: 'n', SHIMS_X86_64: 'qemu', ...env }, arch: 'x86_64' });
  return chooseLayout(settings, deriveNames(settings, runtime), {
    containerdVersion: parseContainerdVersion(version)!,
    mainConfig: main,
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
    assert.throws(() => layout('k3s', '2.1.5', 'version = 3\n'), HostError);
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

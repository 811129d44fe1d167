import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  flagValue,
  parseEnvironmentFile,
  splitCommandLine,
  unitCommand,
  yamlDataDir,
} from './command-line.js';

describe('how a runtime starts containerd', () => {
  it('splits command lines like systemd: quotes, escapes, runs of blanks', () => {
    assert.deepEqual(splitCommandLine(`/usr/bin/k3s  server --data-dir "/srv/k 3s" 'a b' c\\ d`), [
      '/usr/bin/k3s',
      'server',
      '--data-dir',
      '/srv/k 3s',
      'a b',
      'c d',
    ]);
  });

  it('takes the last ExecStart after drop-ins, honours a reset and expands Environment=', () => {
    const command = unitCommand([
      { file: '/lib/systemd/system/containerd.service', text: '[Service]\nExecStart=/usr/bin/containerd\n' },
      {
        file: '/etc/systemd/system/containerd.service.d/10-root.conf',
        text: '[Service]\nEnvironment="ROOT=/data/ctd" OTHER=1\nExecStart=\nExecStart=-/usr/bin/containerd \\\n  --root ${ROOT} --config /etc/ctd.toml\n',
      },
    ]);
    assert.deepEqual(command.argv, [
      '/usr/bin/containerd',
      '--root',
      '/data/ctd',
      '--config',
      '/etc/ctd.toml',
    ]);
    assert.equal(flagValue(command.argv!, ['--root']), '/data/ctd');
    assert.equal(unitCommand([{ file: 'x', text: '[Unit]\nDescription=x\n' }]).argv, undefined);
  });

  it('reads flags in both forms; the last occurrence wins', () => {
    assert.equal(flagValue(['k0s', 'worker', '--data-dir=/a', '--data-dir', '/b'], ['--data-dir']), '/b');
    assert.equal(flagValue(['k3s', 'agent', '-d', '/c'], ['--data-dir', '-d']), '/c');
    assert.equal(flagValue(['k3s', 'agent'], ['--data-dir', '-d']), undefined);
  });

  it('reads data-dir from a k3s/rke2 config.yaml and KEY=value environment files', () => {
    assert.equal(yamlDataDir('token: x\ndata-dir: "/srv/rancher" # moved\n'), '/srv/rancher');
    assert.equal(yamlDataDir('token: x\n  data-dir: /nested\n'), undefined);
    assert.deepEqual(
      [...parseEnvironmentFile('# k3s\nK3S_DATA_DIR="/srv/k3s"\nexport X=1\n')],
      [
        ['K3S_DATA_DIR', '/srv/k3s'],
        ['X', '1'],
      ],
    );
  });
});

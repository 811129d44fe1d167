import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../errors/index.js';
import { loadSettings } from './load.js';
import { readOperatorFiles } from './operator-files.js';

const settings = (env: Record<string, string> = {}, customConfigsDir?: string) =>
  loadSettings({
    env: { NODE_NAME: 'n', SHIMS_X86_64: 'qemu clh', ...env },
    flags: customConfigsDir === undefined ? {} : { customConfigsDir },
    arch: 'x86_64',
  });
const files = (map: Record<string, string>) => async (path: string) => map[path];

describe("the operator's files", () => {
  it('reads custom runtimes with their drop-ins, shim drop-ins, and the containerd drop-in', async () => {
    const s = await readOperatorFiles(
      settings({ CUSTOM_RUNTIMES_ENABLED: 'true', CONTAINERD_USER_DROP_IN_SOURCE_FILE: '/cfg/user.toml' }),
      files({
        '/custom-configs/custom-runtimes.list': 'kata-small:qemu\nkata-gpu:qemu-nvidia-gpu:nydus\n',
        '/custom-configs/dropin-kata-small.toml': '[hypervisor.qemu]\ndefault_memory = 256\n',
        '/custom-configs/dropin-clh.toml': '[hypervisor.clh]\ndefault_vcpus = 2\n',
        '/cfg/user.toml': 'version = 3\n[debug]\n  format = "json"\n',
      }),
    );
    assert.deepEqual(
      s.customRuntimes.map((r) => [r.handler, r.baseConfig, r.snapshotter, r.dropIn?.source]),
      [
        ['kata-small', 'qemu', undefined, '/custom-configs/dropin-kata-small.toml'],
        ['kata-gpu', 'qemu-nvidia-gpu', 'nydus', undefined],
      ],
    );
    assert.deepEqual([...s.shimDropIns.keys()], ['clh']);
    assert.equal(s.containerdUserDropIn?.content, 'version = 3\n[debug]\n  format = "json"\n');
  });

  it('looks where --custom-configs-dir, else CUSTOM_CONFIGS_DIR, says', async () => {
    const list = {
      '/elsewhere/custom-runtimes.list': 'kata-x:qemu\n',
      '/env/custom-runtimes.list': 'kata-y:qemu\n',
    };
    const byFlag = await readOperatorFiles(
      settings({ CUSTOM_RUNTIMES_ENABLED: '1', CUSTOM_CONFIGS_DIR: '/env' }, '/elsewhere'),
      files(list),
    );
    assert.equal(byFlag.customRuntimes[0]?.handler, 'kata-x');
    const byEnv = await readOperatorFiles(
      settings({ CUSTOM_RUNTIMES_ENABLED: '1', CUSTOM_CONFIGS_DIR: '/env' }),
      files(list),
    );
    assert.equal(byEnv.customRuntimes[0]?.handler, 'kata-y');
  });

  it('refuses, naming the file, a missing or empty list, a drop-in that is not TOML, a missing user drop-in', async () => {
    const on = settings({ CUSTOM_RUNTIMES_ENABLED: 'true' });
    const refused = async (
      s: ReturnType<typeof settings>,
      map: Record<string, string>,
      input: string,
      re: RegExp,
    ) =>
      assert.rejects(
        readOperatorFiles(s, files(map)),
        (e: unknown) => e instanceof UsageError && e.input === input && re.test(e.message),
      );
    await refused(on, {}, '/custom-configs/custom-runtimes.list', /does not exist/);
    await refused(
      on,
      { '/custom-configs/custom-runtimes.list': '# none\n' },
      '/custom-configs/custom-runtimes.list',
      /lists no custom runtime/,
    );
    await refused(
      on,
      {
        '/custom-configs/custom-runtimes.list': 'kata-x:qemu\n',
        '/custom-configs/dropin-kata-x.toml': '[oops\n',
      },
      '/custom-configs/dropin-kata-x.toml',
      /the drop-in for custom runtime kata-x: .*not valid TOML/,
    );
    await refused(
      settings(),
      { '/custom-configs/dropin-qemu.toml': 'a = \n' },
      '/custom-configs/dropin-qemu.toml',
      /shim qemu/,
    );
    const user = settings({ CONTAINERD_USER_DROP_IN_SOURCE_FILE: '/cfg/u.toml' });
    await refused(user, {}, 'CONTAINERD_USER_DROP_IN_SOURCE_FILE', /does not exist/);
    await refused(
      user,
      { '/cfg/u.toml': 'version = "three"\n' },
      '/cfg/u.toml',
      /version = "three" is not valid/,
    );
  });

  it('cleanup reads the list alone, and a list it cannot use counts as empty', async () => {
    const on = settings({ CUSTOM_RUNTIMES_ENABLED: 'true', CONTAINERD_USER_DROP_IN_SOURCE_FILE: '/missing' });
    const s = await readOperatorFiles(
      on,
      files({ '/custom-configs/custom-runtimes.list': 'kata-x:qemu\n' }),
      { forCleanup: true },
    );
    assert.deepEqual(
      s.customRuntimes.map((r) => r.handler),
      ['kata-x'],
    );
    const bad = await readOperatorFiles(on, files({ '/custom-configs/custom-runtimes.list': 'BAD\n' }), {
      forCleanup: true,
    });
    assert.deepEqual(bad.customRuntimes, []);
  });

  it('honours DEVKIT only with DEBUG, as upstream', () => {
    assert.equal(settings({ DEVKIT: 'true' }).devkit, false);
    assert.equal(settings({ DEVKIT: 'true', DEBUG: 'true' }).devkit, true);
    assert.throws(() => settings({ DEVKIT: 'yes' }), /DEVKIT="yes" is not valid/);
  });
});

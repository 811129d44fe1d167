import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadSettings } from '../settings/index.js';
import { createHost, type ServiceManager } from '../host/index.js';
import { ExitCode, UsageError } from '../errors/index.js';
import { SystemdUnreachableError } from '../host/service/systemd-errors.js';
import { detectRuntime } from './observe.js';
import { idleServices } from '../../test/support/idle-services.js';

function manager(isActive: (unit: string) => Promise<boolean>): ServiceManager {
  return idleServices({ kind: 'systemd', isActive });
}

const settings = (env: Record<string, string> = {}) =>
  loadSettings({ env: { NODE_NAME: 'n', ...env }, flags: { hostRoot: '/nonexistent' }, arch: 'x86_64' });

describe('runtime detection', () => {
  it('finds the distribution whose unit is active', async () => {
    const host = createHost({
      root: '/nonexistent',
      serviceManager: manager(async (u) => u === 'k3s.service'),
    });
    assert.equal(await detectRuntime(settings(), host), 'k3s');
    const none = createHost({ root: '/nonexistent', serviceManager: manager(async () => false) });
    assert.equal(await detectRuntime(settings(), none), 'containerd');
  });

  it('a service manager that cannot answer is exit 2 naming the unit and the cause, never "containerd"', async () => {
    const unreachable = manager(async (unit) => {
      throw new SystemdUnreachableError(
        'check',
        unit,
        '/host/run/systemd/private',
        new Error('connect ENOENT'),
      );
    });
    const host = createHost({ root: '/nonexistent', serviceManager: unreachable });
    await assert.rejects(detectRuntime(settings(), host), (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.equal(error.exitCode, ExitCode.usage);
      assert.equal(error.input, 'snap.microk8s.daemon-containerd.service');
      assert.match(error.message, /snap\.microk8s\.daemon-containerd\.service/);
      assert.match(error.message, /connect ENOENT/);
      assert.match(error.hint ?? '', /hostPID: true.*--runtime/);
      return true;
    });
    const broken = createHost({
      root: '/nonexistent',
      serviceManager: manager(async () => {
        throw new Error('systemd answered: Access denied');
      }),
    });
    await assert.rejects(detectRuntime(settings(), broken), /Access denied/);
  });

  it('an explicit --runtime needs no service manager', async () => {
    const host = createHost({
      root: '/nonexistent',
      serviceManager: manager(async () => {
        throw new Error('must not be asked');
      }),
    });
    const s = loadSettings({
      env: { NODE_NAME: 'n' },
      flags: { hostRoot: '/nonexistent', runtime: 'k3s' },
      arch: 'x86_64',
    });
    assert.equal(await detectRuntime(s, host), 'k3s');
  });
});

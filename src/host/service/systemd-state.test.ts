import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeUnitState, isActiveState, jobSucceeded } from './systemd-state.js';

describe('systemd unit and job states', () => {
  it('a job succeeded only when it ended done or skipped', () => {
    assert.ok(jobSucceeded('done'));
    assert.ok(jobSucceeded('skipped'));
    for (const r of ['failed', 'dependency', 'timeout', 'canceled', 'invalid', ''])
      assert.equal(jobSucceeded(r), false, r);
  });

  it('a unit on its way up or down (auto-restart included) is active; inactive and failed are not', () => {
    for (const s of ['active', 'reloading', 'activating', 'deactivating']) assert.ok(isActiveState(s), s);
    for (const s of ['inactive', 'failed', '']) assert.equal(isActiveState(s), false, s);
  });

  it('describes a failed unit by its result and how its main process ended', () => {
    assert.equal(
      describeUnitState('containerd.service', {
        loadState: 'loaded',
        activeState: 'failed',
        subState: 'failed',
        result: 'exit-code',
        execMainCode: 1,
        execMainStatus: 1,
      }),
      'containerd.service: failed (failed): Result=exit-code; main process exited with status 1',
    );
    assert.equal(
      describeUnitState('k3s.service', { loadState: 'not-found', activeState: 'inactive', subState: 'dead' }),
      'k3s.service: not-found (no unit file systemd could load)',
    );
    assert.equal(
      describeUnitState('x.service', {
        loadState: 'loaded',
        activeState: 'active',
        subState: 'running',
        result: 'success',
        execMainCode: 0,
        execMainStatus: 0,
      }),
      'x.service: active (running)',
    );
  });
});

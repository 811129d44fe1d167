/**
 * The sandbox end to end on containerd 2.1 with the real nydus-snapshotter (1.6 and 1.7 are run by hand:
 * `bash scripts/sandbox.sh --containerd 1.6`), on its default node (the systemd bed: kata-deploy with
 * `--service-manager systemd` in a pod of a node whose PID 1 is systemd) and with `--service-manager process`:
 * every step of the node's life passes, the running container survives the upgrade and is named as what kept
 * the data dir, the report names the service manager, and nothing is left running or on disk.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { run, type RunResult } from '../bed/exec.js';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { SandboxReport } from '../../sandbox/report.js';

const REPO = resolve(import.meta.dirname, '../..');

const runSandbox = (args: string[]): Promise<RunResult> =>
  run(process.execPath, ['--import', 'tsx', 'sandbox/main.ts', ...args], {
    cwd: REPO,
    allowFail: true,
    timeoutMs: 300_000,
  });

describe('sandbox on containerd 2.1 with nydus', () => {
  for (const [manager, args] of [
    ['systemd', []],
    ['process', ['--service-manager', 'process']],
  ] as const) {
    it(`${manager}: install → pull → run → upgrade → pull → stop → uninstall → install → pull, leaving nothing`, async () => {
      const r = await runSandbox(['--containerd', '2.1', '--json', ...args]);
      const report = JSON.parse(r.stdout) as SandboxReport;
      assert.equal(report.serviceManager, manager, r.stderr);
      const summary = report.steps
        .map((s) => `${s.name}: ${s.outcome} (exit ${s.exitCode}) ${s.detail}`)
        .join('\n');
      assert.deepEqual(
        report.steps.map((s) => s.name),
        [
          'prepare',
          'install',
          'pull',
          'run container',
          'upgrade (install again)',
          'pull again',
          'stop container',
          'uninstall (cleanup)',
          'install',
          'pull again',
        ],
      );
      for (const s of report.steps)
        assert.equal(s.outcome, 'passed', `${s.name} failed:\n${summary}\n${r.stderr}`);
      assert.ok(report.steps.every((s) => s.exitCode === 0));
      // The teardown's own steps and problems say why a run whose steps all passed still failed.
      const teardown = JSON.stringify(report.teardown, null, 2);
      assert.equal(r.code, 0, `${r.stderr}\n${teardown}`);
      assert.equal(report.passed, true, teardown);

      const upgrade = report.steps[4]!;
      assert.match(upgrade.detail, /still RUNNING/);
      assert.match(upgrade.detail, /kept .*held by k8s\.io\/sandbox-busybox \(task RUNNING\)/);
      for (const pull of [report.steps[2]!, report.steps[5]!, report.steps[9]!])
        assert.match(pull.detail, /2 images unpacked into nydus-for-kata-tee/);
      assert.match(report.steps[7]!.detail, /nydus-for-kata-tee\.service stopped/);

      assert.deepEqual(report.teardown.problems, []);
      assert.deepEqual(report.teardown.leftRunning, []);
      assert.ok(report.teardown.steps.every((s) => s.outcome === 'passed'));
      assert.equal(report.teardown.rootRemoved, true);
      assert.equal(existsSync(report.root), false, `${report.root} was removed`);
    });
  }
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../errors/index.js';
import type { FileRecord } from '../../host/state.js';
import { applyEdit } from './edit.js';
import { planConfigCleanup, planConfigInstall, sha256Text, type ConfigFacts } from './plan.js';

const MAIN = '/etc/containerd/config.toml';
const STATE = '/var/lib/kata-deploy/install.json';
const ORIGINAL = 'version = 2\n';
const EDIT = {
  tables: [
    {
      path: ['plugins', 'io.containerd.grpc.v1.cri', 'containerd', 'runtimes', 'kata-qemu'],
      body: { runtime_type: 'io.containerd.kata-qemu.v2' },
    },
  ],
  values: [],
  arrayEntries: [],
};
const applied = applyEdit(ORIGINAL, EDIT, MAIN);
/** What the user made of the file after install: kata-deploy's tables plus an edit of their own. */
const EDITED = `${applied.text}\n[debug]\n  level = "warn"\n`;

function facts(edit: unknown): ConfigFacts {
  const record: FileRecord = {
    origin: 'existing',
    originalSha256: sha256Text(ORIGINAL),
    backupFile: `${MAIN}.kata-deploy.bak`,
    writtenSha256: sha256Text(applied.text),
    ...(edit === undefined ? {} : { edit }),
  };
  return {
    files: new Map([[MAIN, EDITED]]),
    recorded: { [MAIN]: record },
    backups: new Map([[`${MAIN}.kata-deploy.bak`, ORIGINAL]]),
    stateFile: STATE,
  };
}
const fallback = { dropIns: [], mainFile: MAIN, edit: EDIT };

describe('a recorded edit that does not read', () => {
  for (const [what, edit] of [
    ['tables is not a list', { tables: 'x', values: [], arrayEntries: [] }],
    ['null', null],
    ['the record part is missing', { edit: EDIT }],
  ] as const) {
    it(`stops cleanup and install with an error naming the state file and the file (${what})`, () => {
      for (const plan of [
        () => planConfigCleanup(facts(edit), fallback),
        () => planConfigInstall({ mode: 'whole-file', file: MAIN, configVersion: 2 }, EDIT, facts(edit)),
      ]) {
        assert.throws(plan, (error: unknown) => {
          assert.ok(error instanceof UsageError);
          assert.equal(error.exitCode, 2);
          assert.equal(error.input, STATE);
          assert.match(
            error.message,
            /^the install state \/var\/lib\/kata-deploy\/install\.json is corrupt: its record of \/etc\/containerd\/config\.toml holds an edit kata-deploy cannot read/,
          );
          assert.match(error.hint ?? '', /remove it \(cleanup then takes kata-deploy's part out by name\)/);
          return true;
        });
      }
    });
  }

  it('a good record still gives the user’s file back without kata-deploy’s tables', () => {
    const good = { edit: EDIT, record: applied.record };
    const [change] = planConfigCleanup(facts(good), fallback);
    assert.equal(change?.content, `${ORIGINAL}\n[debug]\n  level = "warn"\n`);
  });
});

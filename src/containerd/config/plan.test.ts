import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../errors/index.js';
import type { FileRecord } from '../../host/state.js';
import { applyEdit } from './edit.js';
import { fileRecordFor, planConfigCleanup, planConfigInstall, sha256Text, type ConfigFacts } from './plan.js';
import { parseToml } from './toml.js';

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

describe('two installs sharing one imports list (containerd 2.x)', () => {
  const dropIn = (sfx: string) => `/opt/kata${sfx}/containerd/config.d/kata-deploy.toml`;
  const layout = (sfx: string) =>
    ({ mode: 'imported-drop-in', dropIn: dropIn(sfx), importsFile: MAIN, configVersion: 3 }) as const;
  const importEdit = (sfx: string) => ({
    tables: [],
    values: [],
    arrayEntries: [{ path: ['imports'], entry: dropIn(sfx) }],
  });
  const OPERATOR = "version = 3\n\n[grpc]\n\taddress = '/run/containerd/containerd.sock'  \n";
  const BACKUP_A = `${MAIN}.kata-deploy.bak`;
  const BACKUP_B = `${MAIN}.kata-deploy-coco.bak`;

  /** One install's run of planConfigInstall and the records it keeps of the user file. */
  function install(sfx: string, current: string | undefined, others: Record<string, FileRecord>[]) {
    const files = new Map([[MAIN, current]]);
    const changes = planConfigInstall(layout(sfx), importEdit(sfx), {
      files,
      recorded: {},
      backups: new Map(),
      others,
    });
    const main = changes.find((ch) => ch.path === MAIN)!;
    const record = fileRecordFor(main, undefined, current, sfx === '' ? BACKUP_A : BACKUP_B);
    return { main, records: { [MAIN]: record } };
  }
  function cleanup(
    current: string,
    recorded: Record<string, FileRecord>,
    others: Record<string, FileRecord>[],
    backups: [string, string][],
  ) {
    const facts = { files: new Map([[MAIN, current]]), recorded, backups: new Map(backups), others };
    return planConfigCleanup(facts, { dropIns: [], mainFile: MAIN, edit: importEdit('') }).find(
      (ch) => ch.path === MAIN,
    )!;
  }

  it('the second install takes over the first one’s origin and backup; the last one out restores the bytes', () => {
    const a = install('', OPERATOR, []);
    assert.equal(a.main.inherits, undefined);
    const b = install('-coco', a.main.content, [a.records]);
    assert.deepEqual(b.main.inherits, {
      origin: 'existing',
      originalSha256: sha256Text(OPERATOR),
      backupFile: BACKUP_A,
    });
    assert.equal(b.records[MAIN]?.backupFile, BACKUP_A, 'B names A’s backup, not a copy holding A’s entry');
    const both = b.main.content!;
    assert.match(both, /imports = \[.*kata-deploy\.toml.*kata-coco/);

    const afterA = cleanup(both, a.records, [b.records], [[BACKUP_A, OPERATOR]]);
    assert.equal(afterA.othersPart, 'recorded');
    assert.deepEqual(parseToml(afterA.content!, MAIN)['imports'], [dropIn('-coco')]);
    const afterB = cleanup(afterA.content!, b.records, [], [[BACKUP_A, OPERATOR]]);
    assert.equal(afterB.content, OPERATOR, 'no `imports = []` left: the original had no list');
  });

  it('a file that is the original again is copied by the second install itself', () => {
    const a = install('', OPERATOR, []);
    const b = install('-coco', OPERATOR, [a.records]);
    assert.deepEqual(b.main.inherits, { origin: 'existing', originalSha256: sha256Text(OPERATOR) });
    assert.equal(b.records[MAIN]?.backupFile, BACKUP_B);
  });

  it('a file the first install created: the other one’s entry and the version stay until the last one leaves', () => {
    const a = install('', undefined, []);
    assert.equal(a.main.origin, 'created');
    const b = install('-coco', a.main.content, [a.records]);
    assert.deepEqual(b.main.inherits, { origin: 'created' });
    const afterA = cleanup(b.main.content!, a.records, [b.records], []);
    assert.deepEqual({ ...parseToml(afterA.content!, MAIN) }, { version: 3, imports: [dropIn('-coco')] });
    const afterB = cleanup(afterA.content!, b.records, [], []);
    assert.equal(afterB.content, undefined, 'the file kata-deploy created goes with the last install');
  });

  it('keeps another kata-deploy drop-in no readable state accounts for', () => {
    const a = install('', OPERATOR, []);
    const b = install('-coco', a.main.content, [a.records]);
    const afterA = cleanup(b.main.content!, a.records, [], [[BACKUP_A, OPERATOR]]);
    assert.equal(afterA.othersPart, 'unrecorded');
    assert.deepEqual(parseToml(afterA.content!, MAIN)['imports'], [dropIn('-coco')]);
  });

  it('a single install is unchanged by the rules for two', () => {
    const a = install('', OPERATOR, []);
    const after = cleanup(a.main.content!, a.records, [], [[BACKUP_A, OPERATOR]]);
    assert.equal(after.content, OPERATOR);
    assert.equal(after.othersPart, undefined);
  });
});

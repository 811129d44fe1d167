/**
 * Two installs on one containerd 2.1 node, one unsuffixed (A) and one with MULTI_INSTALL_SUFFIX (B), installed
 * and cleaned up in every order: the node must come back byte for byte, the operator's layout in lines
 * kata-deploy does not own (tabs, trailing blanks) included, and no directory either install created may stay.
 * While either is installed, its record of the config names the operator's original and a backup holding it.
 */
import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { UsageError } from '../errors/index.js';
import {
  CONFIG_FILE,
  CONTAINERD_21,
  ORDERS,
  SHARED_ORIGIN,
  STATE_FILES,
  TwoInstalls,
  sha256,
  WITH_IMPORTS,
  linesOutsideImports,
  type Op,
} from '../../test/support/two-installs.js';

const CONFIGS: Record<string, string | undefined> = { ...WITH_IMPORTS, ...SHARED_ORIGIN };

let node: TwoInstalls;
beforeEach(async () => {
  node = new TwoInstalls(await mkdtemp(join(tmpdir(), 'kd-multi-')));
});
afterEach(async () => rm(node.root, { recursive: true, force: true }));

const run = (op: Op, env?: Record<string, string>) => node.run(op, env);
const config = () => node.config();
const snapshot = () => node.snapshot();
const layOut = (text: string | undefined) => node.layOut(text);

describe('two installs (unsuffixed and suffixed) on containerd 2.1', () => {
  for (const [name, text] of Object.entries(CONFIGS)) {
    it(`${name}: every order gives the node back byte for byte`, async () => {
      for (const order of ORDERS) {
        await layOut(text);
        const before = await snapshot();
        for (const op of order) {
          await run(op);
          const now = await config();
          if (text !== undefined && now !== undefined) {
            // Lines kata-deploy does not own keep their bytes at every step, not only at the end.
            for (const line of linesOutsideImports(text)) {
              assert.ok(
                now.split('\n').includes(line),
                `${order.join(', ')}: after ${op}, ${JSON.stringify(line)}`,
              );
            }
          }
          assert.deepEqual(await node.originProblems(text), [], `${order.join(', ')}: after ${op}`);
        }
        assert.equal(await config(), text, order.join(', '));
        assert.deepEqual(await snapshot(), before, order.join(', '));
      }
    });
  }

  it('any sequence of installs, reinstalls and cleanups ends where it started', async () => {
    const op = fc.constantFrom<Op>('install A', 'install B', 'cleanup A', 'cleanup B');
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...Object.values(CONFIGS)),
        fc.array(op, { maxLength: 6 }),
        async (text, ops) => {
          await layOut(text);
          const before = await snapshot();
          for (const o of [...ops, 'cleanup A', 'cleanup B'] as const) {
            await run(o);
            assert.deepEqual(await node.originProblems(text), [], `${ops.join(', ')}: after ${o}`);
          }
          assert.equal(await config(), text);
          assert.deepEqual(await snapshot(), before);
        },
      ),
      { numRuns: 30, seed: 1112 },
    );
  });

  it('keeps the operator’s own entry and every other line when they edit the imports line we changed', async () => {
    await layOut(CONTAINERD_21);
    await run('install A');
    await run('install B');
    const installed = (await config())!;
    const importsLine = installed.split('\n').find((l) => l.startsWith('imports'))!;
    const edited = importsLine.replace(/\s*\]$/, ", '/etc/containerd/mine.toml' ]");
    await writeFile(join(node.root, CONFIG_FILE), installed.replace(importsLine, edited));
    await run('cleanup A');
    await run('cleanup B');
    const after = (await config())!;
    const expectedImports = after.split('\n').find((l) => l.startsWith('imports'))!;
    assert.match(expectedImports, /^imports = \[\s*'\/etc\/containerd\/mine\.toml'\s*\]$/);
    assert.equal(after, CONTAINERD_21.replace('imports = []', expectedImports));
  });
});

describe('two installs: backups, an unreadable state, an operator’s edit', () => {
  const MAIN = `/${CONFIG_FILE}`;
  const exists = (rel: string) =>
    readFile(join(node.root, rel)).then(
      () => true,
      () => false,
    );

  it('each install backs up under its own name; the second takes over the first one’s backup', async () => {
    const text = SHARED_ORIGIN['no imports line']!;
    await layOut(text);
    await run('install B');
    await run('install A');
    assert.equal((await node.state('B'))?.files[MAIN]?.backupFile, `${MAIN}.kata-deploy-coco.bak`);
    assert.equal((await node.state('A'))?.files[MAIN]?.backupFile, `${MAIN}.kata-deploy-coco.bak`);
    assert.equal(await exists(`${CONFIG_FILE}.kata-deploy.bak`), false, 'A took no copy of B’s edit');
    await run('cleanup B');
    assert.equal(await readFile(join(node.root, `${CONFIG_FILE}.kata-deploy-coco.bak`), 'utf8'), text);
    await run('cleanup A');
    assert.equal(await exists(`${CONFIG_FILE}.kata-deploy-coco.bak`), false);
  });

  it('a file kata-deploy created keeps its marker while the other install still uses it', async () => {
    await layOut(undefined);
    await run('install A');
    await run('install B');
    await run('cleanup A');
    assert.equal(await exists(`${CONFIG_FILE}.kata-deploy-created`), true);
    await run('cleanup B');
    assert.equal(await config(), undefined);
    assert.equal(await exists(`${CONFIG_FILE}.kata-deploy-created`), false);
  });

  it('keeps the other install’s import and every backup while its state does not read', async () => {
    const text = SHARED_ORIGIN['no imports line']!;
    await layOut(text);
    const before = await snapshot();
    await run('install A');
    await run('install B');
    const stateB = join(node.root, 'var/lib/kata-deploy/install-coco.json');
    const good = await readFile(stateB, 'utf8');
    await writeFile(stateB, '{ not json');
    await run('cleanup A');
    const kept = (await config())!;
    assert.match(kept, /imports = \[.*\/opt\/kata-coco\/containerd\/config\.d\/kata-deploy\.toml/);
    assert.doesNotMatch(kept, /\/opt\/kata\/containerd/);
    assert.equal(await readFile(join(node.root, `${CONFIG_FILE}.kata-deploy.bak`), 'utf8'), text);
    await writeFile(stateB, good); // the operator restores it: B's cleanup finds all it needs
    await run('cleanup B');
    assert.equal(await config(), text);
    assert.deepEqual(await snapshot(), before);
  });

  it('keeps an operator’s edit made while both are installed, in every order', async () => {
    const text = SHARED_ORIGIN['no imports line']!;
    for (const order of ORDERS.filter((o) => o[1]!.startsWith('install'))) {
      await layOut(text);
      await run(order[0]!);
      await run(order[1]!);
      const edited = `${(await config())!}\n# added by the operator\n`;
      await writeFile(join(node.root, CONFIG_FILE), edited);
      await run(order[2]!);
      await run(order[3]!);
      assert.equal(await config(), `${text}\n# added by the operator\n`, order.join(', '));
    }
  });
});

/**
 * The states the code before this change wrote for two installs: the second install took the file with the
 * first one's entry for its original and copied it over the one backup name both used.
 */
describe('install states written before two installs shared an origin', () => {
  for (const [name, text] of Object.entries(CONFIGS)) {
    for (const order of ORDERS.filter((o) => o[1]!.startsWith('install'))) {
      it(`${name}: ${order.join(', ')} cleans up`, async () => {
        await layOut(text);
        const before = await snapshot();
        await run(order[0]!);
        const firstWritten = (await config())!;
        await run(order[1]!);
        const second = order[1]!.endsWith('A') ? 'A' : 'B';
        const statePath = join(node.root, STATE_FILES[second]);
        const state = (await node.state(second))!;
        const record = state.files[`/${CONFIG_FILE}`]!;
        const old = {
          ...state,
          files: {
            ...state.files,
            [`/${CONFIG_FILE}`]: {
              ...record,
              origin: 'existing',
              originalSha256: sha256(firstWritten),
              backupFile: `/${CONFIG_FILE}.kata-deploy.bak`,
            },
          },
        };
        await writeFile(statePath, `${JSON.stringify(old, null, 2)}\n`);
        await writeFile(join(node.root, `${CONFIG_FILE}.kata-deploy.bak`), firstWritten);
        await rm(join(node.root, `${CONFIG_FILE}.kata-deploy-coco.bak`), { force: true });
        await run(order[2]!);
        await run(order[3]!);
        const after = await snapshot();
        const left = await config();
        if (text !== undefined && /^imports/m.test(text)) {
          assert.equal(left, text, 'a config with an imports list comes back byte for byte, as it did');
          assert.deepEqual(after, before);
        } else {
          // The first install's part is gone; what may stay is the list (or file) the old record took for
          // the operator's: an empty `imports = []`, as before this change.
          assert.doesNotMatch(left ?? '', /kata/);
          const rest = (left ?? '').replace(/^imports = \[\s*\]\n/m, '');
          if (text === undefined) assert.ok(['', 'version = 3\n'].includes(rest), JSON.stringify(left));
          else assert.equal(rest, text);
          const extra = Object.keys(after).filter((p) => !(p in before) && p !== CONFIG_FILE);
          assert.deepEqual(extra, [], 'no backup, marker, state or directory left');
        }
      });
    }
  }
});

describe('a containerd config containerd itself would refuse', () => {
  for (const [key, line] of [
    ['version', 'version = "three"'],
    ['version', 'version = 0'],
    ['version', 'version = 2.5'],
    ['imports', 'imports = [1, 2]'],
    ['imports', "imports = '/etc/containerd/conf.d/*.toml'"],
  ] as const) {
    it(`refuses ${line} before writing anything (exit 2, naming the file and key)`, async () => {
      const text = CONTAINERD_21.replace(key === 'version' ? 'version = 3' : 'imports = []', line);
      await layOut(text);
      const before = await snapshot();
      await assert.rejects(run('install A'), (e: unknown) => {
        assert.ok(e instanceof UsageError, String(e));
        assert.equal(e.exitCode, 2);
        assert.ok(e.message.startsWith(`/etc/containerd/config.toml: ${key} = `), e.message);
        assert.match(e.message, /is not valid: expected /);
        return true;
      });
      assert.deepEqual(await snapshot(), before);
    });
  }
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { UsageError } from '../errors/index.js';
import { parseCustomRuntimesList } from './custom-runtimes.js';

const FILE = '/custom-configs/custom-runtimes.list';
const reserved = new Map([['kata-qemu', 'the handler of shim qemu']]);
const parse = (text: string) => parseCustomRuntimesList(text, FILE, reserved);

function refusedAt(text: string, line: number, pattern: RegExp): void {
  assert.throws(
    () => parse(text),
    (e: unknown) =>
      e instanceof UsageError &&
      e.input === FILE &&
      e.message.startsWith(`${FILE} line ${line}: `) &&
      pattern.test(e.message) &&
      (e.hint ?? '').includes(`fix line ${line} of ${FILE}`) &&
      (e.hint ?? '').includes('nothing was changed on the node'),
  );
}

describe('custom-runtimes.list', () => {
  it("reads upstream's handler:baseConfig:snapshotter:crioPullType lines, later fields optional", () => {
    assert.deepEqual(
      parse(
        '# a comment\nkata-gpu:qemu-nvidia-gpu:nydus:guest-pull\n\n  kata-small : qemu-runtime-rs \nkata-fast:clh::\n',
      ),
      [
        {
          handler: 'kata-gpu',
          baseConfig: 'qemu-nvidia-gpu',
          snapshotter: 'nydus',
          crioPullType: 'guest-pull',
          line: 2,
        },
        {
          handler: 'kata-small',
          baseConfig: 'qemu-runtime-rs',
          snapshotter: undefined,
          crioPullType: undefined,
          line: 4,
        },
        { handler: 'kata-fast', baseConfig: 'clh', snapshotter: undefined, crioPullType: undefined, line: 5 },
      ],
    );
  });

  it('names the file, the line and what is wrong with it', () => {
    refusedAt('ok:qemu\nKata-Big:qemu\n', 2, /"Kata-Big:qemu" is not valid: expected a handler name first/);
    refusedAt('kata-x\n', 1, /expected a baseConfig/);
    refusedAt('kata-x:qemu-turbo\n', 1, /"qemu-turbo" is not one/);
    refusedAt('kata-x:qemu:a/b\n', 1, /a snapshotter name/);
    refusedAt('kata-x:qemu::pull\n', 1, /"guest-pull" or nothing/);
    refusedAt('kata-x:qemu:::more\n', 1, /at most four fields/);
    refusedAt('kata-x:qemu\nkata-x:clh\n', 2, /"kata-x" is on line 1 too/);
    refusedAt('kata-qemu:clh\n', 1, /"kata-qemu" is the handler of shim qemu/);
    refusedAt(`${'a'.repeat(64)}:qemu\n`, 1, /at most 63 characters/);
  });

  it('either reads a line or refuses it with a UsageError that names it (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (line) => {
        try {
          const out = parse(line);
          for (const r of out) assert.match(r.handler, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
        } catch (error) {
          assert.ok(error instanceof UsageError, String(error));
          assert.match(error.message, new RegExp(`^${FILE.replaceAll('.', '\\.')} line \\d+: `));
        }
      }),
      { numRuns: 500 },
    );
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  judgeRestart,
  type ContainerdAnswer,
  type CriObservation,
  type DumpObservation,
  type RestartFacts,
} from './verdict.js';

const HANDLERS = ['kata-qemu', 'kata-clh'];
const answers: ContainerdAnswer = { state: 'answers', version: 'v2.1.9' };
const serving = (...handlers: string[]): CriObservation => ({ state: 'serves', handlers });
const notServing: CriObservation = {
  state: 'not-serving',
  reason: 'unknown service runtime.v1.RuntimeService',
};
const criFailed: CriObservation = { state: 'failed', reason: 'deadline exceeded' };
const dumped = (...handlers: string[]): DumpObservation => ({ state: 'seen', handlers });
const noDump: DumpObservation = { state: 'not-applicable', reason: 'k0s' };
const dumpFailed: DumpObservation = { state: 'failed', reason: 'config dump failed' };

/** A complete, consistent install check; each test takes one source away or turns it against. */
const install = (over: Partial<RestartFacts> = {}): RestartFacts => ({
  expect: 'present',
  handlers: HANDLERS,
  criBefore: serving('runc'),
  containerd: answers,
  cri: serving('runc', ...HANDLERS),
  dump: dumped('runc', ...HANDLERS),
  ...over,
});
const cleanup = (over: Partial<RestartFacts> = {}): RestartFacts => ({
  expect: 'absent',
  handlers: HANDLERS,
  criBefore: undefined,
  containerd: answers,
  cri: serving('runc'),
  dump: dumped('runc'),
  ...over,
});

describe('install: the restart succeeded', () => {
  it('only with containerd answering, CRI serving every handler and the config dump holding them', () => {
    const v = judgeRestart(install());
    assert.equal(v.verdict, 'positive');
    assert.equal(v.rollback, false);
    assert.deepEqual(
      v.evidence.map((e) => [e.kind, e.status]),
      [
        ['containerd-answers', 'seen'],
        ['cri-handlers', 'seen'],
        ['config-dump', 'seen'],
      ],
    );
    assert.deepEqual(v.missing, []);
  });

  it('where no config dump can be run, on containerd and CRI alone', () => {
    assert.equal(judgeRestart(install({ dump: noDump })).verdict, 'positive');
  });

  it('is unknown when containerd does not answer (CRI was not asked)', () => {
    for (const containerd of [
      { state: 'down', reason: 'connection refused' },
      { state: 'failed', reason: 'deadline' },
    ] as const) {
      const v = judgeRestart(install({ containerd, cri: undefined }));
      assert.equal(v.verdict, 'unknown', containerd.state);
      assert.equal(v.rollback, false);
      assert.ok(v.missing.some((l) => l.startsWith('CRI runtime handlers not seen')));
    }
  });

  it('is unknown when the CRI status call fails', () => {
    const v = judgeRestart(install({ cri: criFailed }));
    assert.equal(v.verdict, 'unknown');
    assert.match(v.missing.join('\n'), /CRI runtime handlers failed: the CRI status call failed: deadline/);
  });

  it('is unknown, without a rollback, when CRI did not serve before the restart either', () => {
    const v = judgeRestart(install({ criBefore: notServing, cri: notServing }));
    assert.equal(v.verdict, 'unknown');
    assert.equal(v.rollback, false);
    assert.match(
      v.missing.join('\n'),
      /does not serve .*did not before the restart either; enable containerd/,
    );
  });

  it('is unknown when CRI does not serve and nobody looked before (no restart in this run)', () => {
    const v = judgeRestart(install({ criBefore: undefined, cri: notServing }));
    assert.equal(v.verdict, 'unknown');
    assert.equal(v.rollback, false);
  });

  it('is unknown when the config dump fails', () => {
    assert.equal(judgeRestart(install({ dump: dumpFailed })).verdict, 'unknown');
  });

  it('failed, to be rolled back, when CRI served before and does not serve after', () => {
    const v = judgeRestart(install({ cri: notServing }));
    assert.equal(v.verdict, 'negative');
    assert.equal(v.rollback, true);
    assert.match(v.against.join(), /the CRI plugin no longer serves after the restart/);
  });

  it('failed, to be rolled back, when CRI served before and lacks a handler after', () => {
    const v = judgeRestart(install({ cri: serving('runc', 'kata-qemu') }));
    assert.equal(v.verdict, 'negative');
    assert.equal(v.rollback, true);
    assert.deepEqual(v.against, ['the CRI runtime status lacks kata-clh']);
  });

  it('failed without a rollback when nothing shows CRI served before', () => {
    for (const criBefore of [notServing, criFailed, undefined]) {
      const v = judgeRestart(install({ criBefore, cri: serving('runc') }));
      assert.equal(v.verdict, 'negative');
      assert.equal(v.rollback, false);
    }
  });

  it('failed when the config dump lacks a handler', () => {
    const v = judgeRestart(install({ dump: dumped('runc', 'kata-qemu') }));
    assert.equal(v.verdict, 'negative');
    assert.deepEqual(v.against, ['containerd config dump lacks kata-clh']);
  });
});

describe('cleanup: containerd no longer serves the handlers', () => {
  it('when CRI serves none of them and the config dump holds none', () => {
    assert.equal(judgeRestart(cleanup()).verdict, 'positive');
  });

  it('when the CRI plugin does not serve at all: positive evidence of absence', () => {
    const v = judgeRestart(cleanup({ cri: notServing }));
    assert.equal(v.verdict, 'positive');
    assert.match(v.evidence[1]!.detail, /does not serve at all/);
  });

  it('is negative when CRI or the dump still has one; never a rollback', () => {
    for (const over of [{ cri: serving('kata-qemu') }, { dump: dumped('kata-clh') }]) {
      const v = judgeRestart(cleanup(over));
      assert.equal(v.verdict, 'negative');
      assert.equal(v.rollback, false);
    }
  });

  it('with containerd down: positive only when the configuration it will load is seen without them', () => {
    const down = { containerd: { state: 'down', reason: 'no socket' } as const, cri: undefined };
    assert.equal(judgeRestart(cleanup({ ...down })).verdict, 'positive');
    const none = judgeRestart(cleanup({ ...down, dump: noDump }));
    assert.equal(none.verdict, 'unknown');
    assert.match(none.missing.join(), /containerd config dump not seen: k0s; start containerd/);
    assert.equal(judgeRestart(cleanup({ ...down, dump: dumpFailed })).verdict, 'unknown');
    assert.equal(judgeRestart(cleanup({ ...down, dump: dumped('kata-qemu') })).verdict, 'negative');
  });

  it('is unknown when containerd fails to answer (not down) or the CRI call fails', () => {
    const failedAnswer = { state: 'failed', reason: 'deadline' } as const;
    assert.equal(judgeRestart(cleanup({ containerd: failedAnswer, cri: undefined })).verdict, 'unknown');
    assert.equal(judgeRestart(cleanup({ cri: criFailed })).verdict, 'unknown');
  });
});

describe('property: lost evidence never yields a positive verdict', () => {
  const handlerSet = fc.subarray(['runc', ...HANDLERS]);
  const cri: fc.Arbitrary<CriObservation> = fc.oneof(
    handlerSet.map((h) => serving(...h)),
    fc.constant(notServing),
    fc.constant(criFailed),
  );
  const facts: fc.Arbitrary<RestartFacts> = fc.record({
    expect: fc.constantFrom('present' as const, 'absent' as const),
    handlers: fc.constant(HANDLERS),
    criBefore: fc.option(cri, { nil: undefined }),
    containerd: fc.constantFrom<ContainerdAnswer>(
      answers,
      { state: 'down', reason: 'refused' },
      { state: 'failed', reason: 'deadline' },
    ),
    cri: fc.option(cri, { nil: undefined }),
    dump: fc.oneof(
      handlerSet.map((h) => dumped(...h)),
      fc.constant(noDump),
      fc.constant(dumpFailed),
    ),
  });

  it('positive means every needed source was seen and agrees', () => {
    let positives = 0;
    fc.assert(
      fc.property(facts, (f) => {
        const v = judgeRestart(f);
        if (v.rollback) assert.ok(v.verdict === 'negative' && f.expect === 'present');
        if (v.verdict !== 'positive') return;
        positives++;
        assert.ok(v.evidence.every((e) => e.status === 'seen'));
        const holds = (found: readonly string[]) =>
          HANDLERS.every((h) => found.includes(h) === (f.expect === 'present'));
        if (f.dump.state === 'seen') assert.ok(holds(f.dump.handlers));
        else assert.equal(f.dump.state, 'not-applicable');
        if (f.expect === 'present') {
          assert.equal(f.containerd.state, 'answers');
          assert.ok(f.cri?.state === 'serves' && holds(f.cri.handlers));
        } else if (f.containerd.state === 'down') {
          assert.equal(f.dump.state, 'seen', 'containerd down: only the dump can say');
        } else {
          assert.equal(f.containerd.state, 'answers');
          assert.ok(f.cri !== undefined && f.cri.state !== 'failed');
          if (f.cri.state === 'serves') assert.ok(holds(f.cri.handlers));
        }
      }),
      { numRuns: 5000, seed: 11 },
    );
    assert.ok(positives > 50, `only ${positives} positive verdicts were generated`);
  });
});

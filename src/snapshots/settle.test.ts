import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerdClient } from '../containerd/api/index.js';
import type { FileChanges } from '../host/file-changes.js';
import type { MetaRecordIndex } from './observe.js';
import { settle } from './settle.js';

/** A client whose lease Delete (the GC request) settles after `gcDone` resolves, or rejects on abort. */
function fakeClient(gcDone: Promise<void> = new Promise(() => undefined), gcError?: Error) {
  const calls: string[] = [];
  const client = {
    leases: {
      create: async (_ns: string, id: string) => void calls.push(`create ${id.split('.')[0]}`),
      delete: (_ns: string, _id: string, options: { signal?: AbortSignal; sync?: boolean } = {}) => {
        calls.push(options.sync ? 'delete sync' : 'delete');
        // Without sync containerd answers at once: the lease goes, the collection runs later.
        if (!options.sync) return Promise.resolve();
        return new Promise<void>((resolve, reject) => {
          options.signal?.addEventListener('abort', () => reject(new Error('cancelled')));
          void gcDone.then(() => (gcError ? reject(gcError) : resolve()));
        });
      },
    },
  } as unknown as ContainerdClient;
  return { client, calls };
}

const index = (keys: string[]): MetaRecordIndex =>
  new Map([
    ['k8s.io', new Map(keys.map((k) => [k, { parent: undefined, children: [], referenced: false }]))],
  ]);

const instant = async (): Promise<void> => undefined;

describe('settle', () => {
  it('ends once a read of meta.db shows every expected record gone, and hands that read back', async () => {
    const { client, calls } = fakeClient();
    const reads = [index(['a', 'b']), index(['b']), index(['other'])];
    let n = 0;
    const settled = await settle(client, new Map([['k8s.io', ['a', 'b']]]), async () => reads[n++]!, {
      sleep: instant,
    });
    assert.equal(settled.ended, 'swept');
    assert.equal(settled.reads, 3);
    assert.equal(settled.index, reads[2]);
    // Our wait was cancelled once the sweep showed, so the lease is deleted again without waiting.
    assert.deepEqual(calls, ['create kata-deploy', 'delete sync', 'delete']);
  });

  it('takes a failed read as no news and reads again', async () => {
    const { client } = fakeClient();
    let n = 0;
    const settled = await settle(
      client,
      new Map([['k8s.io', ['a']]]),
      async () => {
        if (n++ === 0) throw new Error('meta.db kept changing');
        return index([]);
      },
      { sleep: instant },
    );
    assert.equal(settled.ended, 'swept');
    assert.equal(settled.reads, 2);
  });

  it('waits for the whole collection when the sweep stalls', async () => {
    let finishGc!: () => void;
    const { client } = fakeClient(new Promise((resolve) => (finishGc = resolve)));
    let clock = 0;
    const settled = await settle(client, new Map([['k8s.io', ['a']]]), async () => index(['a']), {
      stallMs: 5_000,
      now: () => clock,
      sleep: async () => {
        clock += 1_000;
        // The collection completes; the records it never swept are the next round's business.
        if (clock >= 5_000) finishGc();
      },
    });
    assert.equal(settled.ended, 'full-gc');
    assert.equal(settled.index, undefined);
    assert.ok(settled.reads >= 5 && settled.reads <= 7, `${settled.reads} reads`);
  });

  it("reports the collection's failure when it had to wait for it", async () => {
    const { client } = fakeClient(Promise.resolve(), new Error('gc failed'));
    await assert.rejects(
      settle(client, new Map([['k8s.io', ['a']]]), undefined, { sleep: instant }),
      /gc failed/,
    );
  });

  it('reads after each change of meta.db, arming the watch before each read', async () => {
    const { client } = fakeClient();
    const events: string[] = [];
    const changes: FileChanges = {
      arm: () => void events.push('arm'),
      next: async () => {
        events.push('next');
        return true;
      },
      close: () => undefined,
    };
    let n = 0;
    const settled = await settle(
      client,
      new Map([['k8s.io', ['a']]]),
      async () => {
        events.push('read');
        return index(n++ === 0 ? ['a'] : []);
      },
      { changes, sleep: () => Promise.reject(new Error('no timer with a watch')) },
    );
    assert.equal(settled.ended, 'swept');
    assert.deepEqual(events, ['arm', 'next', 'arm', 'read', 'next', 'arm', 'read']);
  });
});

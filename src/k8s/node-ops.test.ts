import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../output/log.js';
import type { KubeApi } from './api.js';
import { KubeApiError, KubeDeniedError } from './errors.js';
import { markerLabel, SHARED_LABEL, type LabelPatch } from './labels.js';
import {
  claimNode,
  labelReady,
  releaseNode,
  removeStartupTaints,
  waitNodeServes,
  type NodeOpsContext,
} from './node-ops.js';
import { withRetries } from './retry.js';
import { DEFAULT_TIMING } from './timing.js';
import type { NodeView, Taint } from './types.js';

const marker = markerLabel(undefined);

/** An in-memory API with resourceVersion preconditions, and hooks to act as other writers. */
class FakeApi implements KubeApi {
  readonly server = 'fake';
  readonly namespace = 'kube-system';
  rv = 1;
  node: NodeView = {
    name: 'n1',
    resourceVersion: '1',
    labels: {},
    taints: [],
    ready: 'True',
    runtimeHandlers: [''],
  };
  patches: LabelPatch[] = [];
  /** Runs before each read (another writer changing the node between our read and write). */
  beforeRead: (() => void) | undefined;
  failNext: KubeApiError | KubeDeniedError | undefined;

  private bump(change: Partial<NodeView>) {
    this.node = { ...this.node, ...change, resourceVersion: String(++this.rv) };
  }
  touch() {
    this.bump({});
  }
  setLabels(labels: Record<string, string>) {
    this.bump({ labels });
  }
  async readNode(): Promise<NodeView> {
    this.beforeRead?.();
    return this.node;
  }
  async patchNodeLabels(_n: string, patch: LabelPatch, rv?: string): Promise<NodeView> {
    if (this.failNext) {
      const e = this.failNext;
      this.failNext = undefined;
      throw e;
    }
    if (rv !== undefined && rv !== this.node.resourceVersion) throw conflict();
    this.patches.push(patch);
    const labels: Record<string, string> = { ...this.node.labels };
    for (const [k, v] of Object.entries(patch))
      if (v === null) delete labels[k];
      else labels[k] = v;
    this.bump({ labels });
    return this.node;
  }
  async replaceNodeTaints(_n: string, taints: readonly Taint[], rv: string): Promise<NodeView> {
    if (rv !== this.node.resourceVersion) throw conflict();
    this.bump({ taints });
    return this.node;
  }
  async readDaemonSet() {
    return undefined;
  }
}

const call = { verb: 'patch', resource: 'nodes', name: 'n1' } as const;
const conflict = () => new KubeApiError(call, { status: 409, reason: 'Conflict', message: 'modified' });

const ctx = (api: FakeApi): NodeOpsContext => ({
  api,
  node: 'n1',
  timing: DEFAULT_TIMING,
  log: silentLogger,
  sleep: async () => {},
});

describe('node operations', () => {
  it('claims with the read resourceVersion and retries after a concurrent writer (409), keeping its change', async () => {
    const api = new FakeApi();
    let writes = 0;
    api.beforeRead = () => {
      // Another controller labels the node right after each of our first two reads.
      if (writes++ < 2) setImmediate(() => {});
    };
    const original = api.patchNodeLabels.bind(api);
    let first = true;
    api.patchNodeLabels = async (n, p, rv) => {
      if (first) {
        first = false;
        api.setLabels({ ...api.node.labels, team: 'x' });
      }
      return original(n, p, rv);
    };
    const node = await claimNode(ctx(api), marker);
    assert.deepEqual(node.labels, { team: 'x', [SHARED_LABEL]: 'false', [marker]: 'false' });
    assert.equal(api.patches.length, 1);
  });

  it('never overwrites a value at claim (the shared label already true stays true)', async () => {
    const api = new FakeApi();
    api.setLabels({ [SHARED_LABEL]: 'true' });
    await claimNode(ctx(api), marker);
    assert.equal(api.node.labels[SHARED_LABEL], 'true');
    assert.equal(api.node.labels[marker], 'false');
  });

  it('gives up after the conflict attempts when the node keeps changing', async () => {
    const api = new FakeApi();
    api.patchNodeLabels = async () => {
      throw conflict();
    };
    await assert.rejects(
      claimNode(ctx(api), marker),
      (e: unknown) => e instanceof KubeApiError && e.conflict,
    );
  });

  it('labels ready and checks 6 times; a label dropped once starts a second attempt', async () => {
    const api = new FakeApi();
    let reads = 0;
    api.beforeRead = () => {
      reads++;
      if (reads === 4) api.setLabels({}); // the kubelet re-registers and drops them once
    };
    const out = await labelReady(ctx(api), marker);
    assert.equal(out.attempts, 2);
    assert.equal(out.dropped, 1);
    assert.deepEqual(api.node.labels, { [SHARED_LABEL]: 'true', [marker]: 'true' });
  });

  it('fails after 12 attempts when the labels never hold', async () => {
    const api = new FakeApi();
    let reads = 0;
    api.beforeRead = () => {
      if (++reads % 2 === 0) api.setLabels({});
    };
    await assert.rejects(labelReady(ctx(api), marker), /did not hold for 6 checks in 12 attempts/);
  });

  it('removes only the startup taints, re-reading on 409', async () => {
    const api = new FakeApi();
    api.node = {
      ...api.node,
      taints: [
        { key: 'kata/startup', effect: 'NoSchedule' },
        { key: 'other', effect: 'NoExecute' },
      ],
    };
    let first = true;
    const original = api.replaceNodeTaints.bind(api);
    api.replaceNodeTaints = async (n, t, rv) => {
      if (first) {
        first = false;
        api.touch();
      }
      return original(n, t, rv);
    };
    const out = await removeStartupTaints(ctx(api), [{ key: 'kata/startup', effect: undefined }]);
    assert.deepEqual(out.removed, ['kata/startup:NoSchedule']);
    assert.deepEqual(api.node.taints, [{ key: 'other', effect: 'NoExecute' }]);
  });

  it('releases: marker off, shared label by the other markers', async () => {
    const api = new FakeApi();
    api.setLabels({ [SHARED_LABEL]: 'true', [marker]: 'true', [markerLabel('coco')]: 'true' });
    const r = await releaseNode(ctx(api), marker);
    assert.equal(r.shared, 'keep');
    assert.deepEqual(api.node.labels, { [SHARED_LABEL]: 'true', [markerLabel('coco')]: 'true' });
  });

  it('waits for the handlers; absent runtimeHandlers is not-seen (unknown), missing ones fail', async () => {
    const api = new FakeApi();
    api.node = { ...api.node, runtimeHandlers: undefined };
    const unknown = await waitNodeServes(ctx(api), ['kata-qemu']);
    assert.equal(unknown.find((e) => e.kind === 'node-runtime-handlers')?.status, 'not-seen');

    let reads = 0;
    api.node = { ...api.node, runtimeHandlers: ['', 'runc'] };
    api.beforeRead = () => {
      if (++reads === 3) api.node = { ...api.node, runtimeHandlers: ['', 'runc', 'kata-qemu'] };
    };
    const seen = await waitNodeServes(ctx(api), ['kata-qemu']);
    assert.equal(seen.find((e) => e.kind === 'node-runtime-handlers')?.status, 'seen');

    api.beforeRead = undefined;
    api.node = { ...api.node, runtimeHandlers: ['', 'runc'] };
    const fast = { ...ctx(api), timing: { ...DEFAULT_TIMING, handlersMs: 0 } };
    await assert.rejects(waitNodeServes(fast, ['kata-qemu']), /does not list kata-qemu/);
    api.node = { ...api.node, ready: 'False' };
    await assert.rejects(
      waitNodeServes({ ...fast, timing: { ...fast.timing, nodeReadyMs: 0 } }, ['kata-qemu']),
      /not Ready/,
    );
  });
});

describe('retries', () => {
  const transient = () =>
    new KubeApiError(
      { verb: 'get', resource: 'nodes', name: 'n1' },
      { status: 503, reason: 'ServiceUnavailable', message: 'x' },
    );
  it('backs off on transient failures and honours Retry-After, within the budget', async () => {
    const waits: number[] = [];
    let n = 0;
    const value = await withRetries(
      async () => {
        if (++n < 4)
          throw n === 2
            ? new KubeApiError(transient().call, { ...transient().failure, retryAfterMs: 7000 })
            : transient();
        return 'ok';
      },
      { budgetMs: 60_000, firstDelayMs: 1000, maxDelayMs: 30_000 },
      {
        log: silentLogger,
        sleep: async (ms) => void waits.push(ms),
        now: () => waits.reduce((a, b) => a + b, 0),
      },
    );
    assert.equal(value, 'ok');
    assert.deepEqual(waits, [1000, 7000, 4000]);
  });

  it('gives up when the budget is spent, and never retries 403, 404 or 409', async () => {
    let clock = 0;
    await assert.rejects(
      withRetries(
        async () => Promise.reject(transient()),
        { budgetMs: 5000, firstDelayMs: 1000, maxDelayMs: 30_000 },
        {
          log: silentLogger,
          sleep: async (ms) => void (clock += ms),
          now: () => clock,
        },
      ),
      /gave up after 3 attempt\(s\)/,
    );
    let calls = 0;
    const denied = new KubeDeniedError(
      { verb: 'patch', resource: 'nodes', name: 'n1' },
      { status: 403, reason: 'Forbidden', message: 'no' },
    );
    await assert.rejects(
      withRetries(
        async () => {
          calls++;
          throw denied;
        },
        DEFAULT_TIMING.later,
        { log: silentLogger },
      ),
      KubeDeniedError,
    );
    assert.equal(calls, 1);
    assert.equal(denied.exitCode, 2);
    assert.match(denied.message, /RBAC denied patch nodes\/n1: the service account may not "patch" nodes/);
  });
});

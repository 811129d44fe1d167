import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { daemonSetSelects } from './selects.js';
import type { DaemonSetView } from './types.js';

const node = { name: 'n1', labels: { 'kubernetes.io/os': 'linux', zone: 'a', gen: '5' } };
const ds = (over: Partial<DaemonSetView> = {}): DaemonSetView => ({
  name: 'kata-deploy',
  namespace: 'kube-system',
  uid: 'u',
  deletionTimestamp: undefined,
  nodeSelector: {},
  requiredTerms: undefined,
  ...over,
});

describe('does the DaemonSet still select the node', () => {
  it('selects with no selector, a matching nodeSelector, a matching affinity term', () => {
    assert.equal(daemonSetSelects(ds(), node).selects, true);
    assert.equal(daemonSetSelects(ds({ nodeSelector: { zone: 'a' } }), node).selects, true);
    const terms = [
      { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] },
      {
        matchExpressions: [{ key: 'gen', operator: 'Gt', values: ['4'] }],
        matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }],
      },
    ];
    assert.equal(daemonSetSelects(ds({ requiredTerms: terms }), node).selects, true);
  });

  it('does not select when being deleted, or when the nodeSelector or every term fails', () => {
    assert.equal(daemonSetSelects(ds({ deletionTimestamp: '2026-12-01T00:00:00Z' }), node).selects, false);
    assert.equal(daemonSetSelects(ds({ nodeSelector: { zone: 'b' } }), node).selects, false);
    const terms = [
      { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] },
      { matchExpressions: [{ key: 'gpu', operator: 'Exists' }] },
      {},
    ];
    assert.equal(daemonSetSelects(ds({ requiredTerms: terms }), node).selects, false);
    assert.equal(daemonSetSelects(ds({ requiredTerms: [] }), node).selects, false, 'no term matches nothing');
  });

  it('is unknown (keeps the node installed) when a requirement cannot be evaluated', () => {
    const terms = [{ matchExpressions: [{ key: 'zone', operator: 'Matches', values: ['a'] }] }];
    assert.equal(daemonSetSelects(ds({ requiredTerms: terms }), node).selects, 'unknown');
    const fields = [{ matchFields: [{ key: 'spec.unschedulable', operator: 'In', values: ['false'] }] }];
    assert.equal(daemonSetSelects(ds({ requiredTerms: fields }), node).selects, 'unknown');
    const failing = [
      {
        matchExpressions: [
          { key: 'zone', operator: 'In', values: ['b'] },
          { key: 'x', operator: 'Matches' },
        ],
      },
    ];
    assert.equal(
      daemonSetSelects(ds({ requiredTerms: failing }), node).selects,
      false,
      'a failing requirement decides',
    );
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  claimPatch,
  kataLabels,
  labelsHold,
  markerLabel,
  readyPatch,
  releasePatch,
  SHARED_LABEL,
} from './labels.js';

const mine = markerLabel(undefined);
const coco = markerLabel('coco');

describe('node labels', () => {
  it('names the marker after the suffix, default without one', () => {
    assert.equal(mine, 'kata-deploy.katacontainers.io/default');
    assert.equal(coco, 'kata-deploy.katacontainers.io/coco');
  });

  it('claims only what is absent, never overwriting a value', () => {
    assert.deepEqual(claimPatch({}, mine), { [SHARED_LABEL]: 'false', [mine]: 'false' });
    assert.deepEqual(claimPatch({ [SHARED_LABEL]: 'true' }, mine), { [mine]: 'false' });
    assert.equal(claimPatch({ [SHARED_LABEL]: 'true', [mine]: 'true' }, mine), undefined);
  });

  it('holds only when every wanted value is there', () => {
    const want = readyPatch(mine);
    assert.ok(labelsHold({ [SHARED_LABEL]: 'true', [mine]: 'true', other: 'x' }, want));
    assert.ok(!labelsHold({ [SHARED_LABEL]: 'true' }, want));
    assert.ok(!labelsHold({ [SHARED_LABEL]: 'false', [mine]: 'true' }, want));
    assert.ok(labelsHold({}, { [mine]: null }));
  });

  it('keeps the shared label while another install is ready, demotes it while others are pending, removes it last', () => {
    const keep = releasePatch({ [SHARED_LABEL]: 'true', [mine]: 'true', [coco]: 'true' }, mine);
    assert.equal(keep.shared, 'keep');
    assert.deepEqual(keep.patch, { [mine]: null });
    const demote = releasePatch({ [SHARED_LABEL]: 'true', [mine]: 'true', [coco]: 'false' }, mine);
    assert.equal(demote.shared, 'demote');
    assert.deepEqual(demote.patch, { [mine]: null, [SHARED_LABEL]: 'false' });
    const remove = releasePatch({ [SHARED_LABEL]: 'true', [mine]: 'true', zone: 'a' }, mine);
    assert.equal(remove.shared, 'remove');
    assert.deepEqual(remove.patch, { [mine]: null, [SHARED_LABEL]: null });
    assert.equal(releasePatch({ zone: 'a' }, mine).patch, undefined, 'nothing of ours: nothing to send');
  });

  it('lists only kata-deploy labels, sorted', () => {
    assert.deepEqual(Object.keys(kataLabels({ z: '1', [mine]: 'true', [SHARED_LABEL]: 'true' })), [
      mine,
      SHARED_LABEL,
    ]);
  });
});

/**
 * A tile attempt's job title (src/core/job-title.ts): built by the tile workflow, read back by
 * the activities that find a lost create's job and the batch's never-started twins.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isBatchJobTitle, parseJobTitle, tileJobTitle } from '../../src/core/job-title';

describe('job titles', () => {
  it('are the attempt key, after a job factory title when there is one', () => {
    assert.equal(tileJobTitle('b1', 'T7', 2), 'b1/T7 attempt 2');
    assert.equal(tileJobTitle('b1', 'T7', 2, 'NDVI over Ghent'), 'NDVI over Ghent — b1/T7 attempt 2');
  });

  it('read back to the batch, tile and attempt they were built from', () => {
    for (const title of [tileJobTitle('b1', 'x/y 3', 12), tileJobTitle('b1', 'x/y 3', 12, 'a — b')]) {
      assert.deepEqual(parseJobTitle(title), { batchId: 'b1', tileId: 'x/y 3', attempt: 12 });
    }
  });

  it('tell jobs of the batch from jobs of other batches and jobs a user titled', () => {
    assert.ok(isBatchJobTitle('b1/T1 attempt 1', 'b1'));
    assert.ok(isBatchJobTitle('mine — b1/T1 attempt 1', 'b1'));
    assert.ok(!isBatchJobTitle('b2/T1 attempt 1', 'b1'));
    assert.ok(!isBatchJobTitle('b10/T1 attempt 1', 'b1'));
    assert.ok(!isBatchJobTitle('b1/T1 notes', 'b1'));
    assert.ok(!isBatchJobTitle('b1/T1 attempt 1 — mine', 'b1'));
    assert.equal(parseJobTitle('my own job'), undefined);
  });
});

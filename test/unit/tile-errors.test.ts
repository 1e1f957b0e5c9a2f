/** What a tile's record says went wrong, without a server: failed activities, limits, cancels. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ActivityFailure, ApplicationFailure, RetryState } from '@temporalio/common';
import { cancelTook, errorOf, timeoutError } from '../../workflows/tile-errors';

const timeouts = {
  heartbeatSeconds: 60,
  activitySeconds: 300,
  retryMaxIntervalSeconds: 120,
  maxQueuedSeconds: 600,
  cancelRunningJobAfterSeconds: 3600,
};

describe("a tile's errors", () => {
  it("show an activity's openEO code and message, not its stack", () => {
    const cause = ApplicationFailure.nonRetryable('the process graph is invalid', 'ProcessGraphInvalid');
    const failed = new ActivityFailure('failed', 'submitJob', '1', RetryState.NON_RETRYABLE_FAILURE, 'worker', cause);
    assert.deepEqual(errorOf(failed), { code: 'ProcessGraphInvalid', message: 'the process graph is invalid' });
    assert.deepEqual(errorOf(new Error('boom')), { code: 'Error', message: 'boom' });
    assert.deepEqual(errorOf('plain'), { code: 'Error', message: 'plain' });
  });

  it('name the limit a job ran past, and whether its cancel took', () => {
    assert.deepEqual(timeoutError('j1', 'queue', timeouts, { status: 'canceled' }), {
      code: 'JobQueuedTooLong',
      message: 'job j1 was cancelled after maxQueuedSeconds (600 s)',
    });
    assert.deepEqual(timeoutError('j1', 'run', timeouts, { status: 'running', cancelTaken: false }), {
      code: 'JobRanTooLong',
      message:
        'job j1 ran past cancelRunningJobAfterSeconds (3600 s): ' +
        'cancel requested; the backend still reports running',
    });
  });

  it('read a cancel recorded before cancelTaken existed as taken', () => {
    assert.equal(cancelTook({ status: 'canceled' }), true);
    assert.equal(cancelTook({ status: 'running', cancelTaken: false }), false);
  });
});

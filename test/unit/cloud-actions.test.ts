/**
 * Counting Temporal Cloud Actions (bench/actions.ts): from a history, by the Cloud's mapping of
 * events to Actions, and from the server's `action` counter; and the job tracker's heartbeat
 * pacing, since every heartbeat that reaches the server is an Action too.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { temporal as proto } from '@temporalio/proto';
import {
  actionsBetween,
  actionsInHistory,
  billableTotal,
  parseActionCounter,
  serverKinds,
} from '../harness/cloud-actions';
import { heartbeatInterval, type Followed } from '../../activities/followed-wait';
import { inQuietStart } from '../../activities/transfer-heartbeats';
import { timeoutsOrDefaults } from '../../src/core/batch-spec/timeout-defaults';
import { MAX_HEARTBEAT_INTERVAL_MS } from '../../activities/job-tracker';
import { readHistory } from '../harness/history-files';

const FIXTURES = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'histories');
const T = proto.api.enums.v1.EventType;

let nextId = 0;
/** An event as the server sends it (64-bit ids), from plain numbers. */
function event(
  eventType: proto.api.enums.v1.EventType,
  attributes: Record<string, unknown> = {},
): proto.api.history.v1.IHistoryEvent {
  return proto.api.history.v1.HistoryEvent.fromObject({ eventId: ++nextId, eventType, ...attributes });
}

const changeVersion = {
  searchAttributes: { indexedFields: { TemporalChangeVersion: { data: new Uint8Array() } } },
};

describe('Actions in a history', () => {
  it("counts a 0.10.0 tile's Actions by kind, as the Cloud bills them", async () => {
    const { history } = await readHistory(join(FIXTURES, '0.10.0', 'tile-finished.json'));
    const counts = actionsInHistory(history.events ?? []);
    // submit, two waits, download; job id and final status; two signals to the batch; the memo;
    // the two patches' markers in two workflow tasks, and their exempt TemporalChangeVersion upserts.
    assert.deepEqual(counts, {
      activity: 4,
      'search attribute upsert': 2,
      signal: 2,
      'memo update': 1,
      markers: 2,
      'change-version upsert': 2,
    });
    assert.equal(billableTotal(counts), 11);
  });

  it("counts a 0.13.0 tile's Actions: no markers, one upsert, one signal", async () => {
    const { history } = await readHistory(join(FIXTURES, '0.13.0', 'tile-finished.json'));
    const counts = actionsInHistory(history.events ?? []);
    assert.deepEqual(counts, { activity: 4, 'search attribute upsert': 1, signal: 1, 'memo update': 1 });
    // With the child start its batch pays for it (2): 9, against 0.10.0's 11 + 2.
    assert.equal(billableTotal(counts), 7);
  });

  it("leaves queries out of the total, unless nobody watched (then they are the batch's own)", () => {
    const counts = { activity: 4, query: 1, 'change-version upsert': 3 };
    assert.equal(billableTotal(counts), 4);
    assert.equal(billableTotal(counts, { unwatched: true }), 5);
  });

  it("counts a batch's children twice each, and its tiles' signals not again", async () => {
    const { history } = await readHistory(join(FIXTURES, '0.10.0', 'batch-finished.json'));
    const counts = actionsInHistory(history.events ?? []);
    assert.equal(counts['child workflow start'], 8, 'four tiles, two Actions each');
    assert.equal(counts['workflow start'], 1);
    assert.equal(counts.signal, undefined, "the tiles' signals are billed in the tiles' histories");
  });

  it('counts markers once per workflow task, retries by attempt, and starts where they are billed', () => {
    const child = { parentWorkflowExecution: { workflowId: 'batch', runId: 'r' } };
    const events = [
      event(T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, { workflowExecutionStartedEventAttributes: child }),
      event(T.EVENT_TYPE_MARKER_RECORDED, { markerRecordedEventAttributes: { workflowTaskCompletedEventId: 4 } }),
      event(T.EVENT_TYPE_MARKER_RECORDED, { markerRecordedEventAttributes: { workflowTaskCompletedEventId: 4 } }),
      event(T.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, {
        upsertWorkflowSearchAttributesEventAttributes: changeVersion,
      }),
      event(T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
      event(T.EVENT_TYPE_ACTIVITY_TASK_STARTED, { activityTaskStartedEventAttributes: { attempt: 3 } }),
      event(T.EVENT_TYPE_TIMER_STARTED),
      event(T.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, { workflowExecutionSignaledEventAttributes: {} }),
      event(T.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, {
        workflowExecutionSignaledEventAttributes: { externalWorkflowExecution: { workflowId: 'tile' } },
      }),
      event(T.EVENT_TYPE_MARKER_RECORDED, { markerRecordedEventAttributes: { workflowTaskCompletedEventId: 9 } }),
    ];
    assert.deepEqual(actionsInHistory(events), {
      'change-version upsert': 1,
      activity: 1,
      'activity retry': 2,
      timer: 1,
      signal: 1,
      markers: 2,
    });
    const continued = event(T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, {
      workflowExecutionStartedEventAttributes: { ...child, continuedExecutionRunId: 'before' },
    });
    assert.deepEqual(actionsInHistory([continued]), { 'continue-as-new': 1 });
  });
});

describe("the server's action counter", () => {
  const page = (scale: number) =>
    [
      '# HELP action action counter',
      '# TYPE action counter',
      `action{action_type="command_ScheduleActivityTask",namespace="default",service_name="frontend"} ${4 * scale}`,
      `action{action_type="command_StartChildWorkflowExecution",namespace="default",service_name="frontend"} ${scale}`,
      `action{action_type="command_StartChildWorkflowExecution_Extra",namespace="default",service_name="frontend"} ${scale}`,
      `action{action_type="command_RecordMarker",namespace="default",service_name="frontend"} ${3 * scale}`,
      `action{action_type="command_BatchMarkers",namespace="default",service_name="frontend"} ${scale}`,
      `action{action_type="grpc_RecordActivityTaskHeartbeat",namespace="default",service_name="frontend"} ${16 * scale}`,
      `action_other{action_type="grpc_RecordActivityTaskHeartbeat"} 999`,
    ].join('\n');

  it('reads the counter by action type and maps it onto the kinds billed', () => {
    const rise = actionsBetween(parseActionCounter(page(1)), parseActionCounter(page(3)));
    assert.equal(rise.grpc_RecordActivityTaskHeartbeat, 32, 'another metric of the same label is not read');
    assert.deepEqual(serverKinds(rise), {
      activity: 8,
      'child workflow start': 4,
      markers: 2,
      heartbeat: 32,
    });
  });
});

describe("the tracker's heartbeats", () => {
  const wait = (heartbeatTimeoutMs: number, untilEnd = false) =>
    ({ heartbeatTimeoutMs, untilEnd }) as Followed<unknown>;

  it('come 2.5 minutes before a long timeout: none for a 10-minute job at the default 15 minutes', () => {
    const interval = heartbeatInterval(wait(900_000), MAX_HEARTBEAT_INTERVAL_MS);
    assert.equal(interval, 750_000);
    assert.equal(Math.floor(600_000 / interval), 0);
    assert.equal(heartbeatInterval(wait(300_000), MAX_HEARTBEAT_INTERVAL_MS), 180_000, 'at 0.6 of 5 minutes');
  });

  it('come at 0.6 of a short timeout: a hand-over at the default 60 s every 36 s', () => {
    assert.equal(heartbeatInterval(wait(60_000, true), MAX_HEARTBEAT_INTERVAL_MS), 36_000);
    assert.equal(heartbeatInterval(wait(60_000), 1_000), 1_000, 'a tracker told less waits less');
    assert.equal(heartbeatInterval(wait(1_000), MAX_HEARTBEAT_INTERVAL_MS), 1_000);
  });

  it('the default wait timeout is 15 minutes', () => {
    assert.equal(timeoutsOrDefaults(undefined).waitHeartbeatSeconds, 900);
    assert.equal(timeoutsOrDefaults({ heartbeatSeconds: 4 }).waitHeartbeatSeconds, 60);
  });
});

describe("a transfer's heartbeats", () => {
  it('start after a quarter of the heartbeat timeout: a download of seconds sends none', () => {
    assert.equal(inQuietStart(5_000, 120_000), true);
    assert.equal(inQuietStart(29_999, 120_000), true);
    assert.equal(inQuietStart(30_000, 120_000), false);
    assert.equal(inQuietStart(0, undefined), false, 'an activity without a heartbeat timeout heartbeats as it likes');
  });
});

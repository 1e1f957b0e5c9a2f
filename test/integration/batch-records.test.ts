/**
 * The batch's job database read back from Temporal: every tile with its outline, not-started
 * tiles included; running tiles with the backend's live status; ended tiles with their whole
 * record from the tile workflow's memo; tiles added while the batch ran with their own outline.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readChangedTiles, readEndedTiles } from '../../activities/records/read';
import { isEnded } from '../../src/core/records';
import { BATCH_ID, OPENEO_JOB_ID, TILE_RECORD_MEMO, TILE_STATUS } from '../../src/core/search-attributes';
import { actionsInHistory } from '../harness/cloud-actions';
import type { TileFeature } from '../../src/core/batch-spec/tile-types';
import { batchProgress } from '../../workflows/messages';
import { eventually } from '../support/eventually';
import { startHarness, type Harness } from '../support/harness';

const ADDED: TileFeature = {
  type: 'Feature',
  id: 'added-1',
  geometry: {
    type: 'Polygon',
    coordinates: [
      [
        [4.5, 51.5],
        [4.52, 51.5],
        [4.52, 51.52],
        [4.5, 51.52],
        [4.5, 51.5],
      ],
    ],
  },
  properties: {},
};

describe("a batch's records", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ jobDurations: { queuedMs: 300, runningMs: 2_000 } });
    h.emulator.admin.setFaults({
      jobs: { rules: [{ titleContains: 'E595000-N5660000', failFirst: 99, code: 'TileBroken' }] },
    });
    await h.startWorker();
  });
  after(async () => h?.teardown());

  it('lists every tile with its outline while the batch runs, and whole records once it ended', async () => {
    const spec = h.spec({ batchId: 'records', cols: 3, rows: 2 });
    spec.backends = [{ name: 'emulator', url: h.emulator.url, parallelJobs: 1 }];
    const { handle } = await h.client.start(spec);
    await eventually(async () => (await handle.query(batchProgress)).counts.running === 1, 'a tile runs');
    // Paused, no further tile starts: on a loaded machine the batch could otherwise start its
    // last tile before the listing below is read.
    await h.client.pause('records');
    await h.client.addTiles('records', [ADDED]);

    const live = await h.client.records('records');
    // An added tile is listed once its workflow starts (until then only the batch holds it).
    assert.ok(live.tiles.length >= 6, 'the six tiles of the grid');
    assert.ok(
      live.tiles.every((t) => t.geometry !== null),
      'every tile has its outline',
    );
    assert.ok(
      live.tiles.some((t) => t.status === 'not_started'),
      'tiles that wait are listed too',
    );
    const running = live.tiles.find((t) => t.status === 'running');
    assert.ok(
      running?.openeoJobId === undefined || running.backendStatus !== undefined,
      `a running tile with a job says what the backend says: ${JSON.stringify(running)}`,
    );
    // The Temporal UI's status filter shows a running tile as running.
    const runningQuery = `${BATCH_ID.name} = 'records' AND ${TILE_STATUS.name} = 'running' AND ExecutionStatus = 'Running'`;
    assert.ok((await h.temporal.workflow.count(runningQuery)).count >= 1, 'a running tile is searchable as running');
    await h.client.resume('records');
    // A running tile's job id is searchable only once it ends; the tile itself answers it meanwhile.
    await eventually(async () => {
      const asked = await h.client.tiles('records', { liveJobIds: true });
      const tile = asked.find((t) => t.status === 'running' && t.openeoJobId !== undefined);
      if (!tile) return false;
      const plain = (await h.client.tiles('records')).find((t) => t.tileId === tile.tileId);
      return plain?.status === 'running' && plain.openeoJobId === undefined;
    }, "a running tile's job id, from the tile");
    await eventually(
      async () =>
        (await h.client.records('records')).tiles.some((t) => t.status === 'running' && t.backendStatus !== undefined),
      'the backend status of a running job',
    );
    await eventually(async () => (await handle.query(batchProgress)).counts.finished >= 2, 'two tiles ended');
    const since = new Date();

    const summary = await handle.result();
    assert.deepEqual([summary.counts.finished, summary.counts.error], [6, 1]);
    const ended = await h.client.records('records');
    const byId = new Map(ended.tiles.map((t) => [t.tileId, t]));
    const failed = byId.get('E595000-N5660000');
    assert.equal(failed?.status, 'error');
    assert.equal(failed?.error?.code, 'TileBroken');
    assert.equal(failed?.backendStatus, 'error');
    const finished = byId.get('E590000-N5660000');
    assert.equal(finished?.status, 'finished');
    assert.ok(
      finished?.openeoJobId &&
        finished.attempts === 1 &&
        finished.files &&
        finished.files.length > 0 &&
        finished.outputDir,
      JSON.stringify(finished),
    );
    assert.ok((finished?.costs ?? 0) > 0, 'costs are in the record');
    const ring = (finished?.geometry as { coordinates: number[][][] }).coordinates[0]!;
    assert.ok(
      ring.every(([lon, lat]) => lon! > 4 && lon! < 5 && lat! > 51 && lat! < 51.2),
      `the outline is the tile's, in lon/lat: ${JSON.stringify(ring)}`,
    );
    assert.deepEqual(byId.get('added-1')?.geometry, ADDED.geometry, 'an added tile keeps its own outline');
    assert.equal(byId.get('added-1')?.status, 'finished');

    // Ended tiles come from visibility: the record is in the tile workflow's memo.
    const listed = h.temporal.workflow.list({ query: `WorkflowId = '${finished.workflowId}'` });
    for await (const wf of listed) {
      assert.equal((wf.memo?.[TILE_RECORD_MEMO] as { status?: string } | undefined)?.status, 'finished');
      // The status filter ends at the tile's final status.
      assert.equal(wf.typedSearchAttributes.get(TILE_STATUS), 'finished');
    }
    const failedListed = h.temporal.workflow.list({ query: `WorkflowId = '${failed.workflowId}'` });
    for await (const wf of failedListed) assert.equal(wf.typedSearchAttributes.get(TILE_STATUS), 'error');
    // A tile of this release is versioned by its input: no patch markers. Its job's id is made
    // searchable with its final status, in one upsert; it tells its window only that it ended
    // (a lined-up tile takes the slot when the job ends).
    const events = (await h.temporal.workflow.getHandle(finished.workflowId!).fetchHistory()).events ?? [];
    const costs = actionsInHistory(events);
    assert.equal(costs.markers, undefined, 'no patch markers');
    assert.equal(costs['search attribute upsert'], 1, 'one upsert');
    assert.equal(costs.signal, 1, 'one signal, the tile ended');
    const upsert = events.find((e) => e.upsertWorkflowSearchAttributesEventAttributes);
    assert.deepEqual(
      Object.keys(upsert?.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {}).sort(),
      [OPENEO_JOB_ID.name, TILE_STATUS.name].sort(),
    );
    // The batch records all its patch markers in its first workflow task: one billed Action.
    const batchEvents = (await handle.fetchHistory()).events ?? [];
    assert.equal(actionsInHistory(batchEvents).markers, 1, "the batch's markers in one workflow task");
    const byJob = await h.temporal.workflow.count(`${OPENEO_JOB_ID.name} = '${finished.openeoJobId}'`);
    assert.equal(byJob.count, 1, 'the tile is found by its job');

    const changed = await readChangedTiles(h.temporal, 'records', since);
    const closedSince = (await h.client.tiles('records')).filter((t) => t.closeTime && t.closeTime >= since);
    assert.ok(closedSince.length < 7, 'some tiles ended before');
    assert.deepEqual(
      changed.map((t) => t.tileId).sort(),
      closedSince.map((t) => t.tileId).sort(),
      'only the tiles that ended since',
    );
    assert.ok(
      changed.every((t) => t.status !== 'running' && t.attempts > 0),
      'with their records',
    );
    // What the ETA's rate reads: the same tiles, each with when it ended.
    const endedSince = await readEndedTiles(h.temporal, 'records', since);
    assert.deepEqual(endedSince.map((t) => t.tileId).sort(), closedSince.map((t) => t.tileId).sort());
    assert.ok(
      endedSince.every((t) => isEnded(t.status) && t.finishedAt !== undefined),
      'with when they ended',
    );
  });

  it('tells the window a job ended before its download only when the window asked (no lined-up tiles)', async () => {
    h.emulator.admin.setFaults({});
    const spec = h.spec({ batchId: 'records-no-line-up', cols: 2, rows: 1 });
    spec.backends = [{ name: 'emulator', url: h.emulator.url, parallelJobs: 1 }];
    spec.scheduling = { ...spec.scheduling, lineUpJobs: false };
    const { handle } = await h.client.start(spec);
    const summary = await handle.result();
    assert.equal(summary.counts.finished, 2);
    const tile = (await h.client.tiles('records-no-line-up')).find((t) => t.status === 'finished')!;
    const events = (await h.temporal.workflow.getHandle(tile.workflowId).fetchHistory()).events ?? [];
    const signals = events
      .map((e) => e.signalExternalWorkflowExecutionInitiatedEventAttributes?.signalName)
      .filter((name) => name !== undefined);
    assert.deepEqual(signals, ['tileJobEnded', 'tileCompleted'], 'the slot is free while results download');
  });
});

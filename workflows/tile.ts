/**
 * One tile, one openEO batch job: create → start → wait until it ends → download results (or
 * save error logs). The record it returns, and signals to its batch, is the tile's row in the
 * "job database" that Temporal history has become.
 */
import { isCancellation } from '@temporalio/workflow';
import type { HookName } from '../src/core/hooks/remote';
import type { TileRecord } from '../src/core/records';
import { tileJobEnded } from './messages';
import { errorOf } from './tile-errors';
import { postprocessTile } from './tile-hooks';
import type { TileWorkflowInput } from './tile-input';
import type { TileJournal } from './tile-journal';
import { TileRun } from './tile-run';
import { finish, tellParent } from './tile-window';

export type { TileWorkflowInput } from './tile-input';
export { RECORD_MEMO_PATCH } from './tile-window';

/**
 * Runs one tile's openEO job to its end, resubmitting a job that fails or times out up to
 * `maxAttempts` jobs in all. Never throws for a failed job, only for cancellation.
 */
export async function tileWorkflow(input: TileWorkflowInput): Promise<TileRecord> {
  const run = new TileRun(input);
  const { journal, record } = run;
  try {
    run.show();
    if (input.finishedJobId !== undefined) {
      await run.downloadFinishedJob(input.finishedJobId);
      await finish(journal, input);
      return record;
    }
    if (input.postprocessOnly !== undefined && input.postprocess !== undefined) {
      await postprocessAgain({ ...input, postprocess: input.postprocess }, journal, input.postprocessOnly);
      await finish(journal, input);
      return record;
    }
    await run.runJobs();
  } catch (err) {
    if (isCancellation(err)) {
      await run.endCancelled();
      throw err;
    }
    record.status = 'error';
    record.error = errorOf(err);
  }
  await finish(journal, input);
  return record;
}

/**
 * `postprocess` re-run of a tile whose results are on disk: its earlier record comes back, its job
 * is not touched (its slot is given back at once), and only the post-processing runs.
 */
async function postprocessAgain(
  input: TileWorkflowInput & { postprocess: HookName },
  journal: TileJournal,
  earlier: TileRecord,
): Promise<void> {
  const { record } = journal;
  Object.assign(record, {
    ...earlier,
    status: 'running',
    error: undefined,
    postprocessResult: undefined,
    finishedAt: undefined,
  });
  await tellParent(input, (parent) => parent.signal(tileJobEnded, { tileId: record.tileId, jobStatus: 'finished' }));
  await postprocessTile(input, record);
}

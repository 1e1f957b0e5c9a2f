/**
 * "The next release" for the chaos run's upgrade: this project's workflows with one change to
 * a tile behind `patched()` (a new first step, a short durable timer). The chaos run replaces
 * the worker with one of this build mid-batch: tiles that started on the released build replay
 * their old path, tiles started later take the new one, and the batch loses nothing.
 */
import { patched, sleep } from '@temporalio/workflow';
import { tileWorkflow as releasedTileWorkflow, type TileWorkflowInput } from '../../workflows/tile';
import type { TileRecord } from '../../src/core/records';

export { batchWorkflow, partitionWorkflow, quotaWorkflow } from '../../workflows';

import { UPGRADE_PATCH } from './upgrade-patch';

export async function tileWorkflow(input: TileWorkflowInput): Promise<TileRecord> {
  if (patched(UPGRADE_PATCH)) await sleep(10);
  return releasedTileWorkflow(input);
}

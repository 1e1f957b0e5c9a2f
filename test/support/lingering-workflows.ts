/**
 * The package's workflows, except that a tile workflow stays open a few seconds after it has
 * told its batch everything. That widens, to seconds, the moment in which a tile moved to
 * another backend could be started while its previous workflow is still open.
 */
import { sleep } from '@temporalio/workflow';
import { tileWorkflow as packagedTileWorkflow, type TileWorkflowInput } from '../../workflows/tile';
import type { TileRecord } from '../../src/core/records';

export { batchWorkflow, partitionWorkflow, quotaWorkflow } from '../../workflows';

/** How long a tile workflow lingers after its last signal. */
export const LINGER_MS = 3_000;

export async function tileWorkflow(input: TileWorkflowInput): Promise<TileRecord> {
  const record = await packagedTileWorkflow(input);
  await sleep(LINGER_MS);
  return record;
}

/**
 * What a batch costs on Temporal Cloud, which bills per Action: the Actions in the histories of
 * a batch (its runs, its partitions' and its tiles'), and the server's own `action` counter (see
 * test/harness/cloud-actions.ts for both ways of counting).
 */
import type { Client } from '@temporalio/client';
import {
  actionsInHistory,
  addCounts,
  parseActionCounter,
  type ActionCounts,
  type ServerActions,
} from '../test/harness/cloud-actions';
import { batchRunsOf, closedTilesOf, historyOf, spreadSample } from './histories';

export * from '../test/harness/cloud-actions';

/** A batch's Actions from its histories: its tiles' (a sample, scaled up) and the batch's own. */
export interface HistoryActions {
  tiles: number;
  sampled: number;
  /** The batch's runs and its partitions' runs, in all. */
  batchShare: ActionCounts;
  /** Every tile's, in all (the sample's mean times the tiles). */
  tilesTotal: ActionCounts;
  /** Everything in the histories. */
  total: ActionCounts;
}

export async function historyActions(
  temporal: Client,
  batchId: string,
  expectedTiles: number,
  sampleSize = 200,
): Promise<HistoryActions> {
  const tiles = await closedTilesOf(temporal, batchId, expectedTiles);
  const { batch, partitions } = await batchRunsOf(temporal, batchId);
  let batchShare: ActionCounts = {};
  for (const run of [...batch, ...partitions])
    batchShare = addCounts(batchShare, actionsInHistory(await historyOf(temporal, run.workflowId, run.runId)));
  const sample = spreadSample(tiles, sampleSize);
  let sampled: ActionCounts = {};
  for (const tile of sample)
    sampled = addCounts(sampled, actionsInHistory(await historyOf(temporal, tile.workflowId, tile.runId)));
  const tilesTotal = addCounts({}, sampled, tiles.length / Math.max(1, sample.length));
  return {
    tiles: tiles.length,
    sampled: sample.length,
    batchShare,
    tilesTotal,
    total: addCounts(batchShare, tilesTotal),
  };
}

/** Reads the dev server's `action` counter from its metrics endpoint. */
export async function readServerActions(metricsUrl: string): Promise<ServerActions> {
  const response = await fetch(metricsUrl);
  if (!response.ok) throw new Error(`${metricsUrl}: HTTP ${response.status}`);
  return parseActionCounter(await response.text());
}

/**
 * `plan --pilot N`: the batch's first N tiles run as a small batch of their own, on the real
 * backends, and the mean costs they report, times the batch's tiles, is the projected cost. The
 * only projection a plan can make: openEO estimates only a job that exists.
 */
import type { BatchSummary } from '../../core/records';
import type { BatchSpecInput } from '../../core/batch-spec/schema';
import type { OpenEOBatchClient } from '../client';
import type { BatchPlan, PlanCosts } from './index';

/**
 * The pilot's spec: the batch's spec over its first `tiles` planned tiles (each pinned to the
 * backend the batch would send it to), without a budget of its own. Throws, with the fix, when
 * the plan has no tiles to take or the batch runs periods.
 */
export function pilotSpec(spec: BatchSpecInput, plan: BatchPlan, tiles: number, batchId: string): BatchSpecInput {
  if (spec.periods !== undefined)
    throw new Error('--pilot: a batch with periods cannot run a pilot yet; leave --pilot out');
  if (!plan.ok || !plan.tiles)
    throw new Error('--pilot: the plan has problems or no tiles to take (see above); fix them first');
  // Plain copies: each keeps its properties, `backend` among them, so it goes where the batch would send it.
  const features = plan.tiles.features.slice(0, tiles).map((f) => ({ ...f }));
  const { budget: _budget, ...rest } = spec;
  return { ...rest, batchId, tiles: { type: 'FeatureCollection', features } };
}

/** The batch's projected cost from a pilot's summary: the mean of its tiles that ran a job. */
export function projectedFromPilot(summary: BatchSummary, totalTiles: number): Pick<PlanCosts, 'projected' | 'how'> {
  const c = summary.counts;
  const ran = c.finished + (c.postprocessed ?? 0) + c.error;
  const pilot = `pilot ${summary.batchId}: ${ran} of ${summary.totalTiles} tiles ran a job and reported ${summary.costs} credits`;
  if (ran === 0 || summary.costs <= 0) return { how: `projected cost unknown: ${pilot}` };
  const mean = summary.costs / ran;
  return {
    projected: Math.round(mean * totalTiles * 100) / 100,
    how: `${pilot}; their mean (${Math.round(mean * 1000) / 1000}) × ${totalTiles} tiles`,
  };
}

/** Runs the pilot to its end through the workers and projects the batch's cost from it. */
export async function runPilot(
  client: OpenEOBatchClient,
  spec: BatchSpecInput,
  plan: BatchPlan,
  tiles: number,
  batchId: string,
): Promise<BatchPlan> {
  const { handle } = await client.start(pilotSpec(spec, plan, tiles, batchId));
  const projected = projectedFromPilot(await handle.result(), plan.totalTiles ?? 0);
  return { ...plan, costs: { ...plan.costs, ...projected } };
}

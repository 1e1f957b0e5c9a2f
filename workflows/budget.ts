/**
 * A batch's budget in credits: whether one more job may start on a backend. Credits are money
 * and no backend stops a batch at a limit, so the window projects what the batch will have
 * spent before it starts a tile: the credits ended tiles reported, plus the expected cost of
 * every tile in flight, plus the one about to start. Pure, so it is tested without a server.
 */
import { addCosts, formatCosts, roundCosts } from '../src/core/costs';
import type { BudgetSpec } from '../src/core/batch-spec/schema';

/**
 * Patch id of the budget: a window with a budget holds back tiles that would pass it. Called
 * only when a budget is set, so batches without one replay and run exactly as before.
 */
export const BUDGET_PATCH = 'batch-budget';

/** Credits the ended tiles of one backend reported, and how many tiles reported any. */
export interface BackendSpend {
  credits: number;
  tiles: number;
}

/** What the batch's ended tiles cost, per backend (across partitions: carried from one to the next). */
export type Spend = Record<string, BackendSpend>;

/** Adds an ended tile's costs to its backend's; a tile that reported none tells nothing of the mean. */
export function recordSpend(spend: Spend, backend: string, costs: number | undefined): void {
  if (costs === undefined) return;
  const before = spend[backend] ?? { credits: 0, tiles: 0 };
  spend[backend] = { credits: addCosts(before.credits, costs), tiles: before.tiles + 1 };
}

/**
 * The credits a tile on `backend` is expected to cost: the mean of that backend's ended tiles,
 * else the mean of all ended tiles, else 0 (nothing ended with costs yet: nothing to project).
 */
export function expectedCost(spend: Spend, backend: string): number {
  const own = spend[backend];
  if (own && own.tiles > 0) return own.credits / own.tiles;
  const all = Object.values(spend).reduce(
    (sum, s) => ({ credits: sum.credits + s.credits, tiles: sum.tiles + s.tiles }),
    { credits: 0, tiles: 0 },
  );
  return all.tiles > 0 ? all.credits / all.tiles : 0;
}

/** What the window knows when it asks: costs so far, and the backend of each tile in flight. */
export interface SpendingNow {
  spend: Spend;
  /**
   * The costs the batch (or partition window) counted so far. At least the spend's sum; more
   * when tiles ended before the spend was kept per backend, so those credits still count.
   */
  costs: number;
  /** Tiles in flight (lined-up ones included: their jobs start by themselves) per backend. */
  inFlight: Record<string, number>;
}

/** Credits reported and committed (expected of the tiles in flight), for the batch or one backend. */
function spentAndCommitted(now: SpendingNow, backend?: string): { spent: number; committed: number } {
  if (backend !== undefined) {
    return {
      spent: now.spend[backend]?.credits ?? 0,
      committed: (now.inFlight[backend] ?? 0) * expectedCost(now.spend, backend),
    };
  }
  const reported = addCosts(...Object.values(now.spend).map((s) => s.credits));
  const committed = Object.entries(now.inFlight).reduce(
    (sum, [name, tiles]) => sum + tiles * expectedCost(now.spend, name),
    0,
  );
  return { spent: Math.max(reported, now.costs), committed };
}

/**
 * Why one more tile may not start on `backend`, or undefined when it may: its expected cost,
 * added to what was reported and what the tiles in flight are expected to cost, would pass the
 * batch's credits or the backend's. With nothing projected yet (no tile ended with costs), a
 * tile starts unless the credits are used up already.
 */
export function budgetStop(budget: BudgetSpec, now: SpendingNow, backend: string): string | undefined {
  const next = expectedCost(now.spend, backend);
  const limits: [number | undefined, string | undefined][] = [
    [budget.credits, undefined],
    [budget.backends?.[backend], backend],
  ];
  for (const [limit, on] of limits) {
    if (limit === undefined) continue;
    const { spent, committed } = spentAndCommitted(now, on);
    const projected = spent + committed;
    if (roundCosts(projected) >= limit || roundCosts(projected + next) > limit)
      return stopReason(limit, spent, committed, next, on);
  }
  return undefined;
}

function stopReason(
  limit: number,
  spent: number,
  committed: number,
  next: number,
  backend: string | undefined,
): string {
  const whose = backend === undefined ? 'credits' : `credits on ${backend}`;
  const how = backend === undefined ? '--credits <more>' : `--backend ${backend} --credits <more>`;
  return (
    `budget: ${formatCosts(spent + committed)} of ${formatCosts(limit)} ${whose} spent or committed ` +
    `(${formatCosts(spent)} reported, ${formatCosts(committed)} expected of the jobs in flight, ${formatCosts(next)} expected of the next); ` +
    `raise it with the setBudget update (openeo-temporal budget <batchId> ${how})`
  );
}

/** A budget with a change applied: credits replaced when given, backends' limits merged. */
export function changedBudget(budget: BudgetSpec | undefined, change: BudgetSpec): BudgetSpec {
  const backends = { ...budget?.backends, ...change.backends };
  const credits = change.credits ?? budget?.credits;
  return { ...(credits !== undefined ? { credits } : {}), ...(Object.keys(backends).length > 0 ? { backends } : {}) };
}

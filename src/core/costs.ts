/**
 * Costs as backends report them (credits, or the backend's currency), added up and shown.
 * Binary floats turn 12 × 1.2 into 14.400000000000004; every sum of costs goes through
 * `addCosts`, so results, queries and tables carry 14.4. Pure: workflows import this module.
 */

/**
 * Sums keep a millionth of a credit: finer than any backend bills, so nothing a backend
 * reported is lost, and coarse enough that the float noise of long sums is cut off each time.
 */
const KEPT_DECIMALS = 6;

/** What people read: credits to the cent. */
const SHOWN_DECIMALS = 2;

/** A cost without float noise (to a millionth). */
export function roundCosts(value: number): number {
  const factor = 10 ** KEPT_DECIMALS;
  // `+ 0` turns a -0 from rounding a tiny negative into 0.
  return Math.round(value * factor) / factor + 0;
}

/** The sum of costs, without the noise float addition leaves. */
export function addCosts(...values: readonly number[]): number {
  return roundCosts(values.reduce((sum, value) => sum + value, 0));
}

/** Costs for a line of text or a table cell: `14.40`. */
export function formatCosts(value: number): string {
  return roundCosts(value).toFixed(SHOWN_DECIMALS);
}

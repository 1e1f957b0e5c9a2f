/**
 * The `Retry-After` header (RFC 9110 §10.2.3): how long a server asks us to wait, as seconds or
 * as an HTTP date. openEO calls and result downloads both honour it instead of their own backoff.
 */

/**
 * Seconds to wait from a `Retry-After` value, or undefined when there is none or it is neither
 * form. A date in the past means "now" (0 seconds).
 */
export function parseRetryAfter(value: unknown, now: number = Date.now()): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds;
  const date = Date.parse(String(value));
  return Number.isNaN(date) ? undefined : Math.max(0, (date - now) / 1000);
}

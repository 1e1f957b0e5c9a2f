/**
 * The emulator's simulated tariff and resource usage. One place, so the
 * estimate of a job and the costs of its runs agree.
 */
import type { Usage } from './jobs';

/** Credits charged per started run, whatever its length. */
const START_FEE = 0.5;
/** Credits per second of running time. */
const RATE_PER_SECOND = 0.1;

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** Usage metrics of a run of `seconds` (2 CPUs, 2 GB of memory). */
export function usageFor(seconds: number): Usage {
  return {
    cpu: { value: round(seconds * 2), unit: 'cpu-seconds' },
    memory: { value: round(seconds * 2048), unit: 'mb-seconds' },
    duration: { value: round(seconds), unit: 'seconds' },
  };
}

/** Credits charged for a run of `seconds`. */
export function costsFor(seconds: number): number {
  return round(START_FEE + seconds * RATE_PER_SECOND);
}

/** An ISO 8601 duration such as `PT7.5S` (the format of an estimate's `duration`). */
export function isoDuration(ms: number): string {
  return `PT${round(Math.max(0, ms) / 1000)}S`;
}

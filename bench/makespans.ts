/**
 * The makespan runs, at the spec's default settings (what users get), each on the scenario's
 * fresh worker: short jobs, where seeing each end soon is what counts, and long ones, where few
 * looks are. Runs of jobs of 10 minutes or more go alongside the others unless `--serial`.
 */
import type { MakespanSettings } from './scenarios/makespan';

export const MAKESPANS: MakespanSettings[] = [
  { key: 'makespan16x2x10s', tiles: 16, parallelJobs: 2, runningMs: 10_000 },
  { key: 'makespan64x4x5s', tiles: 64, parallelJobs: 4, runningMs: 5_000 },
  { key: 'makespan16x4x60s', tiles: 16, parallelJobs: 4, runningMs: 60_000 },
  { key: 'makespan8x2x600s', tiles: 8, parallelJobs: 2, runningMs: 600_000 },
];

/** Jobs this long make a run that goes alongside the others. */
export const LONG_JOB_MS = 600_000;

/** How long after a job finished on the emulator the worker came for its results. */
import type { BenchBackend } from './world';

export const RESULTS_ROUTE = 'GET /openeo/1.2/jobs/{job_id}/results';
export const ASSET_ROUTE = 'GET /openeo/1.2/jobs/{job_id}/results/assets/{asset_key}';
export const STATUS_ROUTE = 'GET /openeo/1.2/jobs/{job_id}';

export interface JobLag {
  jobId: string;
  /** When the job entered `finished` (the emulator's `updated`). */
  finishedAt: number;
  /** finished → first results document request, ms. */
  resultsLagMs: number | undefined;
  /** finished → last asset request, ms. */
  assetLagMs: number | undefined;
}

/** Lags of every finished job of the backend; needs a backend started with `logRequests`. */
export function jobLags(backend: BenchBackend): JobLag[] {
  const firstResults = new Map<string, number>();
  const lastAsset = new Map<string, number>();
  for (const r of backend.requests) {
    if (!r.jobId) continue;
    if (r.route === RESULTS_ROUTE && !firstResults.has(r.jobId)) firstResults.set(r.jobId, r.at);
    if (r.route === ASSET_ROUTE) lastAsset.set(r.jobId, r.at);
  }
  return backend.emulator.admin
    .jobs()
    .filter((job) => job.status === 'finished')
    .map((job) => {
      const finishedAt = Date.parse(job.updated);
      const results = firstResults.get(job.id);
      const asset = lastAsset.get(job.id);
      return {
        jobId: job.id,
        finishedAt,
        resultsLagMs: results === undefined ? undefined : results - finishedAt,
        assetLagMs: asset === undefined ? undefined : asset - finishedAt,
      };
    });
}

/**
 * A batch's end sweeps away the jobs that late creates left behind. A create that timed out may
 * still reach the backend after its retry looked, found nothing and created the job again; that
 * late job is never started, but it stays in the user's job list (and counts against some
 * backends' job limits). The tile keeps the oldest job of its title, so each such job is a newer
 * twin of a title that has several jobs, still `created`.
 */
import { isBatchJobTitle } from '../src/core/job-title';
import type { BackendRef, OpenEOConnections } from '../src/core/openeo/connections';
import { callOpenEO } from './failures';
import { jobHandle, oldestFirst, readJobListing, type ListedJob } from './job-requests';

/** Jobs asked for per listing page: the sweep reads every job of the user once. */
const SWEEP_PAGE = 500;

export interface DuplicateSweepInput {
  backend: BackendRef;
  batchId: string;
}

export interface SweptJobs {
  /** Jobs the listing showed. */
  listed: number;
  /** Titles of the deleted jobs, one entry per job. */
  deleted: string[];
}

/**
 * Of each of the batch's titles with several jobs, the jobs after the oldest that were never
 * started. The oldest is the one a tile keeps; a started job is never one to delete.
 */
export function unstartedTwins(jobs: ListedJob[], batchId: string): ListedJob[] {
  const byTitle = new Map<string, ListedJob[]>();
  for (const job of jobs) {
    if (!job.title || !isBatchJobTitle(job.title, batchId)) continue;
    const twins = byTitle.get(job.title) ?? [];
    twins.push(job);
    byTitle.set(job.title, twins);
  }
  return [...byTitle.values()].flatMap((twins) =>
    oldestFirst(twins)
      .slice(1)
      .filter((job) => job.status === 'created'),
  );
}

export function createDuplicateSweepActivities(connections: OpenEOConnections) {
  return {
    /** Deletes the batch's never-started twin jobs on one backend (one pass over the listing). */
    async sweepDuplicateJobs(input: DuplicateSweepInput): Promise<SweptJobs> {
      return callOpenEO(connections, input.backend, 'delete duplicate jobs', async (connection) => {
        let listed = 0;
        // Only the batch's jobs are kept in memory: the user may have many more.
        const batchJobs: ListedJob[] = [];
        await readJobListing(connection, SWEEP_PAGE, (job) => {
          listed += 1;
          if (job.title && isBatchJobTitle(job.title, input.batchId))
            batchJobs.push({ id: job.id, title: job.title, status: job.status, created: job.created });
        });
        const twins = unstartedTwins(batchJobs, input.batchId);
        for (const twin of twins) await jobHandle(connection, twin.id).deleteJob();
        return { listed, deleted: twins.map((twin) => twin.title ?? twin.id) };
      });
    },
  };
}

/** The batches a dashboard without a batch id offers, newest first, from Temporal's visibility. */
import type { Client } from '@temporalio/client';

export interface BatchListing {
  batchId: string;
  /** The workflow's status: Running, Completed, Failed, … */
  status: string;
  startTime: string;
  closeTime?: string;
}

/** Runs of batches looked at, at most: each continue-as-new is a run of its own. */
const MAX_RUNS = 2_000;

export async function listBatches(client: Client, limit = 200): Promise<BatchListing[]> {
  const latest = new Map<string, BatchListing>();
  let runs = 0;
  for await (const wf of client.workflow.list({ query: "WorkflowType = 'batchWorkflow'" })) {
    const seen = latest.get(wf.workflowId);
    // A batch continues as new and may be run again (retry-failed): its latest run says where it is.
    if (!seen || seen.startTime < wf.startTime.toISOString()) {
      latest.set(wf.workflowId, {
        batchId: wf.workflowId,
        status: statusName(wf.status.name),
        startTime: wf.startTime.toISOString(),
        ...(wf.closeTime ? { closeTime: wf.closeTime.toISOString() } : {}),
      });
    }
    if (++runs >= MAX_RUNS) break;
  }
  return [...latest.values()].sort((a, b) => b.startTime.localeCompare(a.startTime)).slice(0, limit);
}

/** `CONTINUED_AS_NEW` → `Continued as new`. */
function statusName(name: string): string {
  const words = name.toLowerCase().replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

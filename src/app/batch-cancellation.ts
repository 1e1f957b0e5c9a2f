/**
 * What a cancelled batch can say about its end: when it closed, who asked for the cancel and
 * when, and its tiles' counts. Each fact is best effort: a cancelled batch reads as cancelled
 * even when none of them can be had.
 */
import type { Client } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import type { BatchSummary } from '../core/records';
import type { BatchCancellation } from './batch-failure';

/** History events read back from the end, at most, looking for the cancel request. */
const CANCEL_REQUEST_SEARCH_EVENTS = 1000;
/** How long the batch's final counts may take (a query of a closed batch needs a worker). */
const FINAL_COUNTS_TIMEOUT_MS = 10_000;

interface CancelRequest {
  /** The identity of the client that asked (e.g. `<pid>@<host>`). */
  by?: string;
  at?: Date;
}

/**
 * The cancel request in the run's history, read backwards: it sits just before the tiles'
 * cancellations, so a short search finds it; a batch with more tiles in flight than that goes
 * without it.
 */
async function cancelRequest(client: Client, workflowId: string, runId: string): Promise<CancelRequest> {
  let nextPageToken: Uint8Array | undefined;
  let read = 0;
  do {
    const page = await client.workflowService.getWorkflowExecutionHistoryReverse({
      namespace: client.options.namespace,
      execution: { workflowId, runId },
      maximumPageSize: 250,
      nextPageToken,
    });
    for (const event of page.history?.events ?? []) {
      const request = event.workflowExecutionCancelRequestedEventAttributes;
      if (request) {
        const ms = optionalTsToMs(event.eventTime);
        return { by: request.identity || undefined, at: ms !== undefined ? new Date(ms) : undefined };
      }
    }
    read += page.history?.events?.length ?? 0;
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken && read < CANCEL_REQUEST_SEARCH_EVENTS);
  return {};
}

/** Resolves to undefined after `ms`, so a missing worker does not hold the answer up. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  return Promise.race([promise.catch(() => undefined), timeout]).finally(() => clearTimeout(timer));
}

/**
 * Gathers what is known of a batch's cancellation. `finalCounts` asks the closed batch for its
 * counts; `lastSeen` stands in when it cannot answer in time.
 */
export async function describeCancellation(
  client: Client,
  batchId: string,
  finalCounts: () => Promise<BatchSummary>,
  lastSeen?: BatchSummary,
): Promise<BatchCancellation> {
  const description = await client.workflow
    .getHandle(batchId)
    .describe()
    .catch(() => undefined);
  const noRequest: CancelRequest = {};
  const [request, counts] = await Promise.all([
    description ? cancelRequest(client, batchId, description.runId).catch(() => noRequest) : noRequest,
    within(finalCounts(), FINAL_COUNTS_TIMEOUT_MS),
  ]);
  const summary = counts ?? lastSeen;
  return {
    ...(description?.closeTime ? { closedAt: description.closeTime } : {}),
    ...(request.by ? { requestedBy: request.by } : {}),
    ...(request.at ? { requestedAt: request.at } : {}),
    ...(summary ? { summary } : {}),
  };
}

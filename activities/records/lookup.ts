/**
 * Reading a batch back from Temporal: the input a run started with, and the batch's tile
 * workflows from visibility. Used by retry-failed, the map and the exports.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';

/** The first argument a workflow run was started with. */
export async function startInput<T>(client: Client, workflowId: string, runId?: string): Promise<T> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload) throw new Error(`workflow ${workflowId} has no input`);
  return client.workflow.options.loadedDataConverter.payloadConverter.fromPayload<T>(payload);
}

/** A batch id quoted for a visibility query. */
function quoted(batchId: string): string {
  return `'${batchId.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * The latest execution of every tile workflow of a batch, from visibility. `closedSince` lists
 * only tiles still running or closed since then (a page refreshing itself asks for no more).
 */
export async function latestTileExecutions(
  client: Client,
  batchId: string,
  options: { closedSince?: Date } = {},
): Promise<WorkflowExecutionInfo[]> {
  let query = `OpenEOBatchId = ${quoted(batchId)} AND WorkflowType = 'tileWorkflow'`;
  if (options.closedSince)
    query += ` AND (ExecutionStatus = 'Running' OR CloseTime >= '${options.closedSince.toISOString()}')`;
  const latest = new Map<string, WorkflowExecutionInfo>();
  for await (const wf of client.workflow.list({ query })) {
    const seen = latest.get(wf.workflowId);
    if (!seen || seen.startTime < wf.startTime) latest.set(wf.workflowId, wf);
  }
  return [...latest.values()];
}

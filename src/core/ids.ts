/**
 * Workflow ids: stable and readable, so users find a batch's pieces in the Temporal UI and CLI
 * by name. The batch's own workflow id is its batch id.
 */

/** A tile's workflow: `antwerp-bap/tile-E590000-N5660000`. */
export function tileWorkflowId(batchId: string, tileId: string): string {
  return `${batchId}/tile-${tileId}`;
}

/** The tile id in a tile workflow's id, or the id itself when it is not one of the batch's. */
export function tileIdOf(batchId: string, workflowId: string): string {
  const prefix = tileWorkflowId(batchId, '');
  return workflowId.startsWith(prefix) ? workflowId.slice(prefix.length) : workflowId;
}

/** A partition of a very large batch: `continent/partition-3`. */
export function partitionWorkflowId(batchId: string, index: number): string {
  return `${batchId}/partition-${index}`;
}

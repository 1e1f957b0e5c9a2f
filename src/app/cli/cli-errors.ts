/**
 * What the command line says when a command fails: the reason in a line or two, never a stack
 * (set OPENEO_TEMPORAL_LOG_LEVEL=DEBUG for one). Temporal's errors name the symptom ("Workflow
 * Update failed", "Failed to connect before the deadline"); the reason is in their cause, or
 * in what we were doing.
 */
import { inspect } from 'node:util';
import { WorkflowFailedError, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { TemporalFailure } from '@temporalio/common';
import { InvalidSpecError } from '../../core/batch-spec/validate';
import { BatchFailedError, failureReason } from '../batch-failure';
import { OpenEOBatchClient } from '../client';
import { temporalTarget } from '../temporal-connection';

/**
 * How a command ends, for scripts: 0 done (a batch's tiles may still have failed: see its
 * counts), 1 the command or the batch as a whole failed, 3 the batch was cancelled.
 */
export const EXIT_FAILED = 1;
export const EXIT_CANCELLED = 3;

/** Connects to Temporal; a server that does not answer is named, with how to get one. */
export async function connectClient(options: { taskQueue?: string } = {}): Promise<OpenEOBatchClient> {
  const target = temporalTarget();
  try {
    return await OpenEOBatchClient.connect({ ...options, temporal: target });
  } catch (err) {
    const address = target.connectionOptions.address ?? 'localhost:7233';
    throw new Error(
      `cannot connect to the Temporal server at ${address} (${err instanceof Error ? err.message : String(err)}): ` +
        'start one with `openeo-temporal dev`, or set TEMPORAL_ADDRESS (and TEMPORAL_NAMESPACE, TEMPORAL_API_KEY) to yours',
      { cause: err },
    );
  }
}

/** The cause's message, when it says more than the error's own. */
function causeLine(err: Error): string[] {
  const cause = err.cause;
  if (!(cause instanceof Error) || err.message.includes(cause.message)) return [];
  return [`  because: ${cause.message}`];
}

/** The lines to print for an error that ends a command. */
export function describeCliError(err: unknown): string {
  if (process.env.OPENEO_TEMPORAL_LOG_LEVEL?.toUpperCase() === 'DEBUG') return inspect(err, { depth: 8 });
  // The spec's problems, one per line, as the user needs them all.
  if (err instanceof InvalidSpecError) return err.message;
  if (err instanceof BatchFailedError) return `error: ${err.message}`;
  if (err instanceof WorkflowNotFoundError)
    return `error: ${err.message}${err.message.includes(err.workflowId) ? '' : ` (batch ${err.workflowId})`}`;
  if (
    err instanceof WorkflowUpdateFailedError ||
    err instanceof WorkflowFailedError ||
    err instanceof TemporalFailure
  ) {
    const reason = failureReason(err instanceof WorkflowUpdateFailedError ? (err.cause ?? err) : err);
    return `error: ${reason.code}: ${reason.message}`;
  }
  if (err instanceof Error) return [`error: ${err.message}`, ...causeLine(err)].join('\n');
  return `error: ${String(err)}`;
}

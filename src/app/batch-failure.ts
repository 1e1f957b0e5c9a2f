/**
 * Why a batch failed as a whole (an invalid spec, a backend the worker cannot log in to), in one
 * line: Temporal's own error says only "Workflow execution failed"; the reason is its cause.
 */
import { ApplicationFailure, CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import type { BatchSummary, TileError } from '../core/records';

/** A batch that failed before or instead of running its tiles. */
export class BatchFailedError extends Error {
  constructor(
    /** The batch that failed. */
    readonly batchId: string,
    /** Why it failed: the failure's code (e.g. `InvalidBatchSpec`) and message. */
    readonly reason: TileError,
    options?: { cause?: unknown },
  ) {
    super(`batch ${batchId} failed: ${reason.code}: ${reason.message}`, options);
    this.name = 'BatchFailedError';
  }
}

/** What is known of a cancelled batch's end; each part only when it could be found out. */
export interface BatchCancellation {
  /** When the batch's workflow closed. */
  closedAt?: Date;
  /** The identity of the client that asked for the cancel (Temporal's `<pid>@<host>` by default). */
  requestedBy?: string;
  /** When the cancel was asked for. */
  requestedAt?: Date;
  /** The tiles' counts at the end (or as last seen). */
  summary?: BatchSummary;
}

/** A batch that was cancelled: it did not fail, someone ended it. */
export class BatchCancelledError extends Error {
  constructor(
    /** The batch that was cancelled. */
    readonly batchId: string,
    /** When and by whom it was cancelled, and its tiles' counts, as far as they are known. */
    readonly cancellation: BatchCancellation,
    options?: { cause?: unknown },
  ) {
    super(`batch ${batchId} was cancelled`, options);
    this.name = 'BatchCancelledError';
  }
}

/** True for the result of a batch that ended cancelled (rather than failed). */
export function isCancelledBatch(err: unknown): boolean {
  return err instanceof WorkflowFailedError && err.cause instanceof CancelledFailure;
}

/** The innermost application failure's code and message, or the error's own message. */
export function failureReason(err: unknown): TileError {
  let cause: unknown = err instanceof WorkflowFailedError ? err.cause : err;
  // An activity's failure arrives wrapped: ActivityFailure → ApplicationFailure.
  while (cause instanceof Error && !(cause instanceof ApplicationFailure) && cause.cause) cause = cause.cause;
  if (cause instanceof ApplicationFailure) return { code: cause.type ?? 'Error', message: cause.message };
  return { code: 'Error', message: cause instanceof Error ? cause.message : String(cause) };
}

/** Turns a failed batch's result into a {@link BatchFailedError} with the reason. */
export function asBatchFailure(batchId: string, err: unknown): unknown {
  return err instanceof WorkflowFailedError ? new BatchFailedError(batchId, failureReason(err), { cause: err }) : err;
}

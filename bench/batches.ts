/** Running one batch to its end, timed and bounded. */
import type { BatchSummary } from '../core/records';
import type { BatchSpecInput } from '../core/spec/schema';
import type { BenchBackend } from './world';

export interface TimedBatch {
  summary: BatchSummary;
  /** From the start request to the batch's result, wall clock. */
  wallMs: number;
  startedAt: number;
}

/**
 * Starts `spec` and waits for its result for at most `timeoutMs`; a batch that overruns is
 * terminated (its abandoned tiles run out on their own) and the scenario fails.
 */
export async function runBatch(backend: BenchBackend, spec: BatchSpecInput, timeoutMs: number): Promise<TimedBatch> {
  const startedAt = Date.now();
  const { handle } = await backend.client.start(spec);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`batch ${spec.batchId} did not end within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    const summary = await Promise.race([handle.result(), timeout]);
    return { summary, wallMs: Date.now() - startedAt, startedAt };
  } catch (err) {
    await handle.terminate('benchmark timeout').catch(() => undefined);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** A batch run for at most a while: to its end, or stopped there with how far it got. */
export interface BoundedBatch {
  /** From the start request to the batch's result or to the stop, wall clock. */
  wallMs: number;
  startedAt: number;
  /** Tiles finished by then. */
  finished: number;
  /** Whether the batch was stopped before its end (then it is terminated). */
  stopped: boolean;
}

/**
 * Runs `spec` for at most `limitMs`: a batch still running then is read (tiles finished so far)
 * and terminated. Its tiles in flight run out on their own: they are abandoned children.
 */
export async function runBatchFor(backend: BenchBackend, spec: BatchSpecInput, limitMs: number): Promise<BoundedBatch> {
  const startedAt = Date.now();
  const { handle } = await backend.client.start(spec);
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<'stop'>((resolve) => {
    timer = setTimeout(() => resolve('stop'), limitMs);
  });
  try {
    const ended = await Promise.race([handle.result(), limit]);
    const wallMs = Date.now() - startedAt;
    if (ended !== 'stop') return { wallMs, startedAt, finished: ended.counts.finished, stopped: false };
    const progress = await backend.client.progress(spec.batchId!);
    await handle.terminate(`benchmark stopped after ${Math.round(limitMs / 60_000)} minutes`);
    return { wallMs, startedAt, finished: progress.counts.finished, stopped: true };
  } finally {
    clearTimeout(timer);
  }
}

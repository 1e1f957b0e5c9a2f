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

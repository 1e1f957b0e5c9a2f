/** Running one batch, timed and bounded. */
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BatchSummary } from '../src/core/records';
import type { BatchSpecInput } from '../src/core/batch-spec/schema';
import type { BenchBackend } from './world';

export interface TimedBatch {
  summary: BatchSummary;
  /** From the start request to the batch's result, wall clock. */
  wallMs: number;
  startedAt: number;
}

/** A batch run for at most a while: to its end, or stopped there with how far it got. */
export interface BoundedBatch {
  /** The batch's result, when it ended in time. */
  summary?: BatchSummary;
  /** From the start request to the batch's result or to the stop, wall clock. */
  wallMs: number;
  startedAt: number;
  /** Tiles finished by then. */
  finished: number;
  /** Whether the batch was stopped before its end (then it is terminated, or left running when asked). */
  stopped: boolean;
}

/** How {@link runBatchFor} treats a batch that is already there, or still running at the limit. */
export interface BoundedBatchOptions {
  /** Follow the batch already running under the spec's id (started by an earlier bench) instead of starting it. */
  attach?: boolean;
  /** Leave a batch still running at the limit as it is (to be carried on), instead of terminating it. */
  leaveRunning?: boolean;
}

/**
 * Runs `spec` for at most `limitMs`: a batch still running then is read (tiles finished so far)
 * and terminated, unless told to leave it running. Its tiles in flight run out on their own:
 * they are abandoned children.
 */
export async function runBatchFor(
  backend: BenchBackend,
  spec: BatchSpecInput,
  limitMs: number,
  options: BoundedBatchOptions = {},
): Promise<BoundedBatch> {
  const startedAt = Date.now();
  const handle = options.attach ? backend.client.handle(spec.batchId!) : (await backend.client.start(spec)).handle;
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<'stop'>((resolve) => {
    timer = setTimeout(() => resolve('stop'), limitMs);
  });
  // A batch left running still has its result awaited; the abort ends that wait's long polls,
  // which would otherwise go on retrying against a closed connection.
  const waiting = new AbortController();
  // Each long poll of the result adds a listener to the signal that stays until the wait ends,
  // and a leg's wait makes hundreds of long polls: not a leak worth a warning.
  setMaxListeners(0, waiting.signal);
  const result = backend.client.client.withAbortSignal(waiting.signal, () => handle.result());
  try {
    const ended = await Promise.race([result, limit]);
    const wallMs = Date.now() - startedAt;
    if (ended !== 'stop') return { summary: ended, wallMs, startedAt, finished: ended.counts.finished, stopped: false };
    const finished = await finishedSoFar(backend, spec.batchId!);
    if (!options.leaveRunning) await handle.terminate(`benchmark stopped after ${limitMs / 1000} s`);
    return { wallMs, startedAt, finished, stopped: true };
  } finally {
    clearTimeout(timer);
    waiting.abort();
    result.catch(() => undefined);
  }
}

/** Runs `spec` to its end within `timeoutMs`; a batch that overruns is stopped and the scenario fails. */
export async function runBatch(backend: BenchBackend, spec: BatchSpecInput, timeoutMs: number): Promise<TimedBatch> {
  const run = await runBatchFor(backend, spec, timeoutMs);
  if (!run.summary) throw new Error(`batch ${spec.batchId} did not end within ${timeoutMs / 1000} s`);
  return { summary: run.summary, wallMs: run.wallMs, startedAt: run.startedAt };
}

/**
 * Tiles the batch has finished. A leg's fresh worker first replays the batch and its partition,
 * and a busy worker answers slowly, so a query can time out: it is asked again for up to five
 * minutes.
 */
export async function finishedSoFar(backend: BenchBackend, batchId: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await backend.client.progress(batchId)).counts.finished;
    } catch (err) {
      if (attempt >= 20) throw err;
      await sleep(15_000);
    }
  }
}

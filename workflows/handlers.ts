/**
 * The batch's outward handlers (progress query, control updates), registered the moment a batch
 * or partition starts. Updates are not buffered by Temporal while a workflow has no handler, so
 * they must exist before `prepareBatch` returns; they wait for the window to attach and then
 * hand over to it.
 */
import { condition, log, setHandler } from '@temporalio/workflow';
import { progressBeforeStart, type BatchProgress } from '../core/progress';
import type { BackendSpec } from '../core/spec/schema';
import {
  addTiles,
  batchProgress,
  controlPartition,
  pauseBatch,
  resumeBackend,
  resumeBatch,
  setParallelJobs,
  type BatchControl,
} from './messages';

/** What a window or the partition runner offers once it runs. */
export interface BatchController {
  progress(): BatchProgress;
  /** Applies a change; returns the backends (for `setParallelJobs`) or the added tile ids. */
  apply(control: BatchControl): Promise<BackendSpec[] | string[] | void>;
}

export interface BatchHandlers {
  attach(controller: BatchController): void;
}

export function registerBatchHandlers(batchId: string): BatchHandlers {
  let controller: BatchController | undefined;
  const ready = async (): Promise<BatchController> => {
    await condition(() => controller !== undefined);
    return controller!;
  };

  // Until a window attaches, the batch is still checking its spec: nothing has started.
  setHandler(batchProgress, () => controller?.progress() ?? progressBeforeStart(batchId));
  setHandler(setParallelJobs, async (args) => (await (await ready()).apply({ type: 'setParallelJobs', ...args })) as BackendSpec[], {
    validator: ({ parallelJobs }) => {
      if (!Number.isInteger(parallelJobs) || parallelJobs < 0) throw new Error('parallelJobs: give a whole number ≥ 0');
    },
  });
  setHandler(pauseBatch, async () => void (await (await ready()).apply({ type: 'pause' })));
  setHandler(resumeBatch, async () => void (await (await ready()).apply({ type: 'resume' })));
  setHandler(resumeBackend, async ({ backend }) => void (await (await ready()).apply({ type: 'resumeBackend', backend })));
  setHandler(addTiles, async ({ features }) => (await (await ready()).apply({ type: 'addTiles', features })) as string[], {
    validator: ({ features }) => {
      if (!Array.isArray(features) || features.length === 0) throw new Error('features: give at least one GeoJSON Feature');
    },
  });
  // A partition gets the batch's changes as signals; the same controller applies them. A signal
  // cannot be refused, and a failure thrown here would fail the partition, so it is logged.
  setHandler(controlPartition, async (c) => {
    try {
      await (await ready()).apply(c);
    } catch (err) {
      log.warn('a change forwarded by the batch could not be applied', { change: c.type, error: String(err) });
    }
  });

  return {
    attach(c) {
      controller = c;
    },
  };
}

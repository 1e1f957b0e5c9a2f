/**
 * The batch's outward handlers (progress query, control updates), registered the moment a batch
 * or partition starts. Updates are not buffered by Temporal while a workflow has no handler, so
 * they must exist before `prepareBatch` returns; they wait for the window to attach and then
 * hand over to it.
 *
 * As in Temporal's safe-message-handlers idiom, validators reject what cannot be applied before
 * an update is accepted (so an accepted update is applied), and workflows wait for
 * `allHandlersFinished` before they return or continue as new.
 */
import { condition, log, setHandler } from '@temporalio/workflow';
import { progressBeforeStart, type BatchProgress } from '../src/core/progress';
import type { BackendSpec, BudgetSpec } from '../src/core/batch-spec/schema';
import { periodTileId } from '../src/core/batch-spec/tile-periods';
import type { Tile } from '../src/core/batch-spec/tile-types';
import { checkAddedTiles, explicitId, type PendingTiles } from './added-tiles';
import { checkControl, checkControlValues, type BatchSettings, type SettingsControl } from './controls';
import {
  addTiles,
  batchProgress,
  controlPartition,
  partitionTilesAdded,
  pauseBatch,
  resumeBackend,
  resumeBatch,
  setBudget,
  setParallelJobs,
  type BatchControl,
} from './messages';

/** What a window or the partition runner offers once it runs. */
export interface BatchController {
  progress(): BatchProgress;
  /** The settings live changes apply to, for validation. */
  settings(): BatchSettings;
  /** Ids of tiles this batch knows now and has not ended (in flight or waiting), and how many added tiles wait. */
  pendingTiles(): PendingTiles;
  /** Applies a change; returns the backends (for settings changes) or the added tile ids. */
  apply(control: BatchControl): Promise<BackendSpec[] | string[]>;
  /** A partition only: tiles the batch numbered and forwarded. */
  receiveTiles?(tiles: Tile[]): void;
}

export interface BatchHandlers {
  attach(controller: BatchController): void;
  /** Before a controller attaches: what the batch waits for to start, shown in its progress. */
  noteProblem(problem: string | undefined): void;
}

/** The controller once a window or the partition runner attaches, and a wait for it. */
interface Attachment {
  current(): BatchController | undefined;
  /** Resolves once a controller is attached (at once when one is). */
  ready(): Promise<BatchController>;
}

/**
 * The batch's handlers. A partition serves the progress query and takes the changes its batch
 * forwards by signal; users send changes to the batch, which numbers added tiles for all.
 */
export function registerBatchHandlers(batchId: string, role: 'batch' | 'partition' = 'batch'): BatchHandlers {
  let controller: BatchController | undefined;
  let problem: string | undefined;
  const noteProblem = (p: string | undefined) => void (problem = p);
  const attachment: Attachment = {
    current: () => controller,
    ready: async (): Promise<BatchController> => {
      await condition(() => controller !== undefined);
      return controller!;
    },
  };
  // Until a window attaches, the batch is still checking its spec: nothing has started.
  setHandler(batchProgress, () => controller?.progress() ?? progressBeforeStart(batchId, problem));

  if (role === 'partition') {
    registerForwardedChanges(attachment);
    return { attach: (c) => void (controller = c), noteProblem };
  }
  registerSettingsUpdates(attachment);
  registerAddTiles(attachment);
  return { attach: (c) => void (controller = c), noteProblem };
}

/** A partition's handlers of what its batch forwards: changes and the tiles it numbered. */
function registerForwardedChanges({ ready }: Attachment): void {
  // A signal cannot be refused, and a failure thrown here would fail the partition, so it is logged.
  setHandler(controlPartition, async (c) => {
    try {
      await (await ready()).apply(c);
    } catch (err) {
      log.warn('a change forwarded by the batch could not be applied', { change: c.type, error: String(err) });
    }
  });
  setHandler(partitionTilesAdded, async ({ tiles }) => (await ready()).receiveTiles?.(tiles));
}

/** The batch's updates of its settings: parallel jobs, pause and resume, the budget. */
function registerSettingsUpdates({ current, ready }: Attachment): void {
  /** Checks a change against the settings once they are known; its numbers before. */
  const check = (control: SettingsControl): void => {
    const settings = current()?.settings();
    if (settings) checkControl(settings, control);
    else checkControlValues(control);
  };
  const settingsUpdate = async (control: SettingsControl) => (await (await ready()).apply(control)) as BackendSpec[];

  setHandler(setParallelJobs, (args) => settingsUpdate({ type: 'setParallelJobs', ...args }), {
    validator: (args) => check({ type: 'setParallelJobs', ...args }),
  });
  setHandler(pauseBatch, async () => void (await settingsUpdate({ type: 'pause' })));
  setHandler(resumeBatch, async () => void (await settingsUpdate({ type: 'resume' })));
  setHandler(resumeBackend, async ({ backend }) => void (await settingsUpdate({ type: 'resumeBackend', backend })), {
    validator: ({ backend }) => check({ type: 'resumeBackend', backend }),
  });
  setHandler(
    setBudget,
    async (budget) => {
      const controller = await ready();
      await controller.apply({ type: 'setBudget', budget });
      return controller.settings().budget as BudgetSpec;
    },
    { validator: (budget) => check({ type: 'setBudget', budget }) },
  );
}

/** The batch's update that adds tiles, checked against the tiles it knows and those on their way. */
function registerAddTiles({ current, ready }: Attachment): void {
  // Explicit ids of added tiles accepted but not applied yet: a second update may not take them too.
  const reserved = new Set<string>();
  const pending = (): PendingTiles => {
    const now: PendingTiles = current()?.pendingTiles() ?? { ids: new Set<string>(), addedWaiting: 0 };
    const { periodIds } = now;
    const held = periodIds
      ? [...reserved].flatMap((id) => periodIds.map((period) => periodTileId(id, period)))
      : [...reserved];
    return { ...now, ids: new Set([...now.ids, ...held]) };
  };
  setHandler(
    addTiles,
    async ({ features }) => {
      const ids = features.map(explicitId).filter((id): id is string => id !== undefined);
      for (const id of ids) reserved.add(id);
      try {
        return (await (await ready()).apply({ type: 'addTiles', features })) as string[];
      } finally {
        for (const id of ids) reserved.delete(id);
      }
    },
    { validator: ({ features }) => checkAddedTiles(features, pending()) },
  );
}

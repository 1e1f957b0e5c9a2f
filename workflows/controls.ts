/**
 * Live changes to a batch's settings (backends' slots, pause, paused backends): one
 * implementation, used by a window and by the partition runner alike. Pure, so it is tested
 * without a server.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { BackendSpec, BudgetSpec } from '../src/core/batch-spec/schema';
import { changedBudget } from './budget';
import type { BatchControl } from './messages';

/**
 * A change that cannot be applied. An update handler must throw an `ApplicationFailure` to fail
 * the update: any other error would fail the workflow task and leave the batch stuck retrying it.
 */
export function invalidChange(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, 'InvalidBatchChange');
}

/** The settings a live change may touch. */
export interface BatchSettings {
  /** Backends as configured now (`parallelJobs` may change while the batch runs). */
  backends: BackendSpec[];
  paused: boolean;
  /** Backends paused for this batch, with the reason shown to users. */
  pausedBackends: Record<string, string>;
  /** Credits the batch may spend, when it has a budget (see `budget.ts`). */
  budget?: BudgetSpec;
  /** Tiles that failed in a row, per backend (only a window keeps it). */
  errorStreak?: Record<string, number>;
}

/** Every control but `addTiles`, which needs an activity and so lives with whoever holds tiles. */
export type SettingsControl = Exclude<BatchControl, { type: 'addTiles' }>;

function backendNamed(settings: BatchSettings, name: string): BackendSpec {
  const backend = settings.backends.find((b) => b.name === name);
  if (!backend)
    throw invalidChange(
      `backend "${name}" is not part of this batch; it has ${settings.backends.map((b) => b.name).join(', ')}`,
    );
  return backend;
}

/**
 * Tiles one window may have in flight: Temporal allows a workflow 2,000 pending child workflows,
 * and a window starts one per tile in flight.
 */
export const MAX_PARALLEL_JOBS = 2_000;

function checkCount(field: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidChange(
      `${field}: give a whole number from ${min} to ${max}${max === MAX_PARALLEL_JOBS ? ` (Temporal allows a workflow ${MAX_PARALLEL_JOBS} pending child workflows)` : ''}`,
    );
  }
}

function checkCredits(field: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw invalidChange(`${field}: give a number of credits greater than 0`);
}

/** Checks a budget change: some limit, each a positive number of credits. */
function checkBudgetValues(budget: BudgetSpec | undefined): void {
  if (typeof budget !== 'object' || budget === null)
    throw invalidChange('budget: give {"credits": <number>} and/or {"backends": {"<name>": <number>}}');
  if (budget.credits !== undefined) checkCredits('credits', budget.credits);
  for (const [name, credits] of Object.entries(budget.backends ?? {})) checkCredits(`backends.${name}`, credits);
  if (budget.credits === undefined && Object.keys(budget.backends ?? {}).length === 0)
    throw invalidChange('budget: sets no limit; give credits for the batch, or for a backend');
}

/** Checks the numbers a change carries: whole, and within what a window can do. */
export function checkControlValues(control: SettingsControl): void {
  if (control.type === 'setBudget') return checkBudgetValues(control.budget);
  if (control.type !== 'setParallelJobs') return;
  checkCount('parallelJobs', control.parallelJobs, 0, MAX_PARALLEL_JOBS);
  if (control.maxQueued !== undefined) checkCount('maxQueued', control.maxQueued, 1, MAX_PARALLEL_JOBS);
}

/**
 * Checks a change against the batch's settings without applying it: update validators run
 * this, so a change that is accepted is one that can be applied.
 */
export function checkControl(settings: BatchSettings, control: SettingsControl): void {
  checkControlValues(control);
  if (control.type === 'setParallelJobs' || control.type === 'resumeBackend') backendNamed(settings, control.backend);
  if (control.type === 'setBudget')
    for (const name of Object.keys(control.budget.backends ?? {})) backendNamed(settings, name);
}

/** Applies a live change; throws (rejecting the update) when it makes no sense. */
export function applyControl(settings: BatchSettings, control: SettingsControl): void {
  checkControl(settings, control);
  switch (control.type) {
    case 'setParallelJobs': {
      const backend = backendNamed(settings, control.backend);
      backend.parallelJobs = control.parallelJobs;
      if (control.maxQueued !== undefined) backend.maxQueued = control.maxQueued;
      return;
    }
    case 'pause':
      settings.paused = true;
      return;
    case 'resume':
      settings.paused = false;
      return;
    case 'setBudget':
      settings.budget = changedBudget(settings.budget, control.budget);
      return;
    case 'resumeBackend':
      delete settings.pausedBackends[control.backend];
      if (settings.errorStreak) settings.errorStreak[control.backend] = 0;
      return;
  }
}

/**
 * Live changes to a batch's settings (backends' slots, pause, paused backends): one
 * implementation, used by a window and by the partition runner alike. Pure, so it is tested
 * without a server.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { BackendSpec } from '../core/spec/schema';
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
  backends: BackendSpec[];
  paused: boolean;
  /** Backends paused for this batch, with the reason shown to users. */
  pausedBackends: Record<string, string>;
  /** Tiles that failed in a row, per backend (only a window keeps it). */
  errorStreak?: Record<string, number>;
}

/** Every control but `addTiles`, which needs an activity and so lives with whoever holds tiles. */
export type SettingsControl = Exclude<BatchControl, { type: 'addTiles' }>;

function backendNamed(settings: BatchSettings, name: string): BackendSpec {
  const backend = settings.backends.find((b) => b.name === name);
  if (!backend) throw invalidChange(`backend "${name}" is not part of this batch; it has ${settings.backends.map((b) => b.name).join(', ')}`);
  return backend;
}

/** Applies a live change; throws (rejecting the update) when it makes no sense. */
export function applyControl(settings: BatchSettings, control: SettingsControl): void {
  switch (control.type) {
    case 'setParallelJobs': {
      if (!Number.isInteger(control.parallelJobs) || control.parallelJobs < 0) throw invalidChange('parallelJobs must be a whole number ≥ 0');
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
    case 'resumeBackend':
      backendNamed(settings, control.backend);
      delete settings.pausedBackends[control.backend];
      if (settings.errorStreak) settings.errorStreak[control.backend] = 0;
      return;
  }
}

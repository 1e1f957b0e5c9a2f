/**
 * Decides whether a run fails on purpose (test scenarios): a custom hook,
 * title substrings, or a seeded random error probability.
 */
import type { JobFailure, JobFailureContext } from './options';
import { SeededRandom } from './random';
import type { ResolvedEmulatorOptions } from './settings';

/** A decided failure, as it will appear in the job's error log entry. */
export interface FailureVerdict {
  code: string;
  message: string;
}

/** A function returning reproducible numbers in [0, 1) for a seed (see {@link SeededRandom}). */
export function seededRandom(seed: number): () => number {
  const random = new SeededRandom(seed);
  return () => random.next();
}

function toVerdict(failure: JobFailure): FailureVerdict {
  return typeof failure === 'string' ? { code: 'Internal', message: failure } : { ...failure };
}

/** Applies the configured failure rules to each run. */
export class FailurePolicy {
  private readonly random: () => number;

  constructor(private readonly settings: ResolvedEmulatorOptions['failure']) {
    this.random = seededRandom(settings.seed);
  }

  /** Called once per run, when the job starts running. */
  decide(job: JobFailureContext): FailureVerdict | null {
    for (const hook of this.settings.failJobHooks) {
      const failure = hook(job);
      if (failure !== null && failure !== undefined) return toVerdict(failure);
    }
    const title = job.title ?? '';
    const matched = this.settings.failTitlesContaining.find((part) => part !== '' && title.includes(part));
    if (matched !== undefined) {
      return { code: 'Internal', message: `Simulated failure: job title contains '${matched}'.` };
    }
    // Draw only when random failures are enabled, so enabling other rules doesn't shift the sequence.
    if (this.settings.errorProbability > 0 && this.random() < this.settings.errorProbability) {
      return { code: 'Internal', message: 'Simulated random failure of the batch job.' };
    }
    return null;
  }
}

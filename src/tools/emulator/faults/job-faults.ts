/**
 * Job faults of one fault configuration: the fate of a job decided when it
 * is created (fail the first N jobs of a title, stay stuck), and random
 * failures drawn once per run.
 */
import type { FailureVerdict } from '../failure';
import type { JobFate } from '../jobs';
import { SeededRandom } from '../random';
import type { JobFaultConfig } from './config';

/** Runtime state, persisted so "fail the first N" keeps counting across restarts. */
export interface JobFaultState {
  /** Per rule: jobs created with a matching title. */
  matched: number[];
  /** State of the random stream of `errorProbability`. */
  random: number;
}

/** Random stream number of job failures (route rules use 1, 2, …). */
const JOB_STREAM = 0;

/** Decides job faults for one configuration. */
export class JobFaultPlan {
  private readonly matched: number[];
  private readonly random: SeededRandom;

  constructor(
    private readonly config: JobFaultConfig,
    seed: number,
  ) {
    this.matched = (config.rules ?? []).map(() => 0);
    this.random = new SeededRandom(seed, JOB_STREAM);
  }

  /** Called once per created job; counts title matches and returns what will happen to the job. */
  fateOf(title: string | null): JobFate {
    const fate: JobFate = {};
    (this.config.rules ?? []).forEach((rule, i) => {
      if (title === null || !title.includes(rule.titleContains)) return;
      this.matched[i] += 1;
      if (rule.stuckIn && !fate.stuckIn) fate.stuckIn = rule.stuckIn;
      if (rule.failFirst !== undefined && this.matched[i] <= rule.failFirst && !fate.failure) {
        fate.failure = {
          code: rule.code ?? 'Internal',
          message:
            rule.message ??
            `Simulated failure: job ${this.matched[i]} of ${rule.failFirst} with a title containing '${rule.titleContains}' fails.`,
        };
      }
    });
    return fate;
  }

  /** Called once per run; draws only when a probability is set, so other settings don't shift the stream. */
  runFailure(): FailureVerdict | null {
    const p = this.config.errorProbability ?? 0;
    if (p > 0 && this.random.next() < p) {
      return { code: 'Internal', message: 'Simulated random failure of the batch job (fault injection).' };
    }
    return null;
  }

  exportState(): JobFaultState {
    return { matched: [...this.matched], random: this.random.state };
  }

  importState(state: JobFaultState): void {
    state.matched.slice(0, this.matched.length).forEach((n, i) => (this.matched[i] = n));
    this.random.state = state.random;
  }
}

/**
 * The create-job hook's activity: calls the factory the spec names, with the tile and a small
 * helper API, and returns its answer normalized to a graph (or a skip). That answer is recorded
 * in the tile's history, so it holds the job's definition only, never a secret.
 */
import { ApplicationFailure } from '@temporalio/common';
import {
  InvalidJobPlanError,
  JOB_FACTORY_FAILED,
  loadCollectionGraph,
  normalizeJobPlan,
  type JobFactory,
  type JobFactoryHelpers,
  type TileJobPlan,
} from '../src/core/hooks/job-factory';
import type { BackendRef } from '../src/core/openeo/connections';
import { tileArguments, tileProcessGraph, type Tile } from '../src/core/batch-spec/arguments';
import type { BatchSpec } from '../src/core/batch-spec/schema';
import { Context } from '@temporalio/activity';

export interface PlanTileJobInput {
  batchId: string;
  jobFactory: string;
  tile: Tile;
  backend: BackendRef;
  attempt: number;
  process: BatchSpec['process'];
  parameterDefaults: BatchSpec['parameterDefaults'];
  parameterMapping: BatchSpec['parameterMapping'];
}

/** The names a spec may use, for messages. */
export function registeredNames(registry: Record<string, unknown>): string {
  const names = Object.keys(registry);
  return names.length > 0 ? names.map((n) => `"${n}"`).join(', ') : 'none';
}

function helpersFor(input: PlanTileJobInput): JobFactoryHelpers {
  return {
    processGraphFor: (process, args) => tileProcessGraph(process, args),
    specProcessGraph: () => {
      if (!input.process)
        throw new Error(
          'specProcessGraph(): the spec has no "process"; give one in the spec, or build the graph with processGraphFor() or loadCollection()',
        );
      return tileProcessGraph(
        input.process,
        tileArguments(input.tile, input.parameterDefaults, input.parameterMapping),
      );
    },
    loadCollection: (options) => loadCollectionGraph(input.tile, options),
    skip: (reason) => ({ skip: reason }),
  };
}

export function createJobFactoryActivities(factories: Record<string, JobFactory>) {
  return {
    /**
     * Asks the named factory for the tile's job. A factory that throws fails with its message
     * (retryable: the workflow allows a few attempts, for a factory's own I/O); an answer that
     * is not a plan fails without retry, since calling again gives the same answer.
     */
    async planTileJob(input: PlanTileJobInput): Promise<TileJobPlan> {
      const factory = factories[input.jobFactory];
      const where = `job factory "${input.jobFactory}" for tile "${input.tile.id}"`;
      if (!factory) {
        // Another worker on the queue may have it: retryable, within the workflow's few attempts.
        throw ApplicationFailure.retryable(
          `${where}: no such factory on this worker (registered: ${registeredNames(factories)}); register it with createOpenEOPlugin({ jobFactories })`,
          JOB_FACTORY_FAILED,
        );
      }
      const helpers = helpersFor(input);
      const context = {
        batchId: input.batchId,
        backend: { name: input.backend.name, url: input.backend.url },
        attempt: input.attempt,
        parameterDefaults: input.parameterDefaults,
        helpers,
      };
      let answer: unknown;
      try {
        answer = await factory(input.tile, context);
      } catch (err) {
        Context.current().log.warn(
          `${where} threw: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
        );
        throw ApplicationFailure.retryable(
          `${where} failed: ${err instanceof Error ? err.message : String(err)}`,
          JOB_FACTORY_FAILED,
        );
      }
      try {
        return normalizeJobPlan(answer, helpers);
      } catch (err) {
        if (!(err instanceof InvalidJobPlanError)) throw err;
        throw ApplicationFailure.nonRetryable(`${where} returned no usable plan: ${err.message}`, JOB_FACTORY_FAILED);
      }
    },
  };
}

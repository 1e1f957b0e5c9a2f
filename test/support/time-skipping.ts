/**
 * Workflow tests in test time: Temporal's time-skipping test server (see
 * test/harness/time-skipping-server.ts), and workers that run the package's workflows against stubbed
 * activities. A workflow that sleeps for hours ends as soon as nothing else is left to do.
 *
 * The server's clock stands still while any activity is in flight (it skips only when every
 * workflow waits on a timer or a retry's backoff): a stub answers at once, and one that should
 * take test time fails retryably, so that its retries are spaced by the server.
 */
import '../harness/quiet-logs';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { ApplicationFailure } from '@temporalio/common';
import { WORKFLOWS_PATH } from '../../src/app/plugin';
import { createActivities, type OpenEOActivities } from '../../activities';
import { SEARCH_ATTRIBUTES } from '../../src/core/search-attributes';
import { ensureTimeSkippingServer } from '../harness/time-skipping-server';
import { workflowBundleOf } from './workflow-bundle';

/**
 * Starts the test server (fetching it once, see `ensureTimeSkippingServer`) with the search
 * attributes the workflows set, since the server refuses an upsert of one it does not know.
 */
export async function startTimeSkipping(): Promise<TestWorkflowEnvironment> {
  const path = await ensureTimeSkippingServer({ log: (line) => console.error(line) });
  const env = await withStartAttempts(() =>
    TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } }),
  );
  const keyword = temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD;
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(SEARCH_ATTRIBUTES.map((key) => [key.name, keyword])),
  });
  return env;
}

/**
 * The SDK gives the server's JVM a fixed few seconds to open its port, which a loaded machine can
 * miss: a start that failed is tried again on a new port.
 */
async function withStartAttempts<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (err) {
      if (attempt >= attempts) throw err;
      console.error(`the time-skipping server did not start (attempt ${attempt} of ${attempts}): ${String(err)}`);
    }
  }
}

/** The activities a test stubs: any of the worker's, by name. */
export type StubActivities = Partial<Record<keyof OpenEOActivities, (...args: never[]) => Promise<unknown>>>;

/** A worker on `taskQueue` running the package's workflows with `activities` (call `runUntil`). */
export async function stubbedWorker(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  activities: StubActivities,
): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: await workflowBundleOf(WORKFLOWS_PATH),
    activities,
  });
}

/** Every activity the workers register, by name (from the real set, so a new one is not missed). */
export const ACTIVITY_NAMES = Object.keys(createActivities({ credentials: {} })) as (keyof OpenEOActivities)[];

/** What stubbed activities were asked: calls per activity, and those the test did not expect. */
export interface StubbedActivities {
  activities: StubActivities;
  calls: Partial<Record<keyof OpenEOActivities, number>>;
  /** Names of activities called that the test gave no stub for (each fails without retry). */
  unexpected: string[];
}

/**
 * Every activity name, with `stubs` where given and otherwise a non-retryable failure (noted in
 * `unexpected`): a workflow that calls something the test did not foresee fails at once instead
 * of retrying it forever.
 */
export function stubActivities(stubs: StubActivities): StubbedActivities {
  const calls: StubbedActivities['calls'] = {};
  const unexpected: string[] = [];
  const activities: StubActivities = {};
  for (const name of ACTIVITY_NAMES) {
    const stub = stubs[name];
    activities[name] = async (...args: never[]) => {
      calls[name] = (calls[name] ?? 0) + 1;
      if (stub) return stub(...args);
      unexpected.push(name);
      throw ApplicationFailure.nonRetryable(`activity ${name} is not stubbed in this test`, 'UnexpectedActivity');
    };
  }
  return { activities, calls, unexpected };
}

/** Test-time durations of a workflow's timers, in the order it started them (from its history). */
export async function timerDurationsMs(env: TestWorkflowEnvironment, workflowId: string): Promise<number[]> {
  const { events } = await env.client.workflow.getHandle(workflowId).fetchHistory();
  return (events ?? []).flatMap((event) => {
    const timeout = event.timerStartedEventAttributes?.startToFireTimeout;
    return timeout ? [Number(timeout.seconds ?? 0) * 1000 + Math.round((timeout.nanos ?? 0) / 1e6)] : [];
  });
}

/**
 * History sizes of a batch: every run of the batch workflow (continue-as-new makes several),
 * of its partition workflows (very large batches) and of its tile workflows. These are the numbers Temporal limits (10,240 events warn, 51,200
 * terminate), so they decide whether a batch of any size can run.
 */
import type { Client } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import { setTimeout as sleep } from 'node:timers/promises';

export interface HistoryFigures {
  batchRuns: number;
  /** Events per batch run, oldest run first. */
  batchEventsPerRun: number[];
  /** Runs of partition workflows (`<batchId>/partition-N`), and the longest of them. */
  partitionRuns: number;
  partitionEventsMax: number;
  tiles: number;
  /** From visibility (every tile); 0 when the server does not record history lengths there. */
  tileEventsMax: number;
  tileEventsMean: number;
  /** From fetched histories of a sample of tiles. */
  sampleSize: number;
  sampleEventsMax: number;
  sampleEventsMean: number;
  /** Mean events per sampled tile, by event type (e.g. `ACTIVITY_TASK_SCHEDULED`): where they go. */
  sampleEventTypes: Record<string, number>;
  /**
   * Where a sampled tile's time goes, by step (`workflow task`, or an activity type): mean
   * milliseconds from scheduled to started (waiting for a worker slot and its poll) and from
   * started to completed (the work), and how many there were per tile.
   */
  sampleSteps: Record<string, StepTiming>;
  /** The longest history of any workflow run of the batch, and whose it is. */
  longestRunEvents: number;
  longestRun: string;
}

/** A type, not an interface, so it is a report figure as it is. */
export type StepTiming = { perTile: number; queueMs: number; runMs: number };

/** Sums of one step's waits and work over the sampled histories. */
type StepSums = Map<string, { n: number; queue: number; run: number }>;

export type HistoryEvent = proto.api.history.v1.IHistoryEvent;

const millis = (event: HistoryEvent | undefined) => {
  const t = event?.eventTime;
  return t ? Number(t.seconds ?? 0) * 1000 + Math.round((t.nanos ?? 0) / 1e6) : 0;
};

/** Adds a history's workflow tasks and activities to `steps`: scheduled → started → closed. */
function addSteps(events: HistoryEvent[], steps: StepSums): void {
  const byId = new Map(events.map((e) => [Number(e.eventId), e]));
  const add = (
    step: string,
    scheduled: HistoryEvent | undefined,
    started: HistoryEvent | undefined,
    closed: HistoryEvent,
  ) => {
    if (!scheduled || !started) return;
    const sum = steps.get(step) ?? { n: 0, queue: 0, run: 0 };
    sum.n += 1;
    sum.queue += millis(started) - millis(scheduled);
    sum.run += millis(closed) - millis(started);
    steps.set(step, sum);
  };
  for (const event of events) {
    const task = event.workflowTaskCompletedEventAttributes;
    if (task) {
      const started = byId.get(Number(task.startedEventId));
      add('workflow task', byId.get(Number(task.scheduledEventId)), started, event);
    }
    const done = event.activityTaskCompletedEventAttributes ?? event.activityTaskFailedEventAttributes;
    if (done) {
      const scheduled = byId.get(Number(done.scheduledEventId));
      const type = scheduled?.activityTaskScheduledEventAttributes?.activityType?.name ?? 'activity';
      add(type, scheduled, byId.get(Number(done.startedEventId)), event);
    }
  }
}

function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

async function eventsOf(
  temporal: Client,
  workflowId: string,
  runId?: string,
  types?: Map<string, number>,
  steps?: StepSums,
): Promise<number> {
  const history = await temporal.workflow.getHandle(workflowId, runId).fetchHistory();
  if (steps) addSteps(history.events ?? [], steps);
  for (const event of types ? (history.events ?? []) : []) {
    const name = (proto.api.enums.v1.EventType[event.eventType ?? 0] ?? String(event.eventType)).replace(
      /^EVENT_TYPE_/,
      '',
    );
    types!.set(name, (types!.get(name) ?? 0) + 1);
  }
  return history.events?.length ?? 0;
}

/** The events of one workflow run. */
export async function historyOf(temporal: Client, workflowId: string, runId?: string): Promise<HistoryEvent[]> {
  return (await temporal.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
}

/** Every run matching `query`, oldest first, with its history length fetched (not from visibility). */
async function runsOf(
  temporal: Client,
  query: string,
): Promise<{ workflowId: string; runId: string; events: number }[]> {
  const found: { workflowId: string; runId: string; start: number }[] = [];
  for await (const wf of temporal.workflow.list({ query }))
    found.push({ workflowId: wf.workflowId, runId: wf.runId, start: wf.startTime.getTime() });
  found.sort((a, b) => a.start - b.start);
  const runs: { workflowId: string; runId: string; events: number }[] = [];
  for (const run of found)
    runs.push({
      workflowId: run.workflowId,
      runId: run.runId,
      events: await eventsOf(temporal, run.workflowId, run.runId),
    });
  return runs;
}

/** Runs of `<batchId>/partition-N`; by exact ids when visibility cannot do STARTS_WITH. */
async function partitionRuns(
  temporal: Client,
  batchId: string,
): Promise<{ workflowId: string; runId: string; events: number }[]> {
  try {
    return await runsOf(temporal, `WorkflowId STARTS_WITH ${quote(`${batchId}/partition-`)}`);
  } catch {
    const runs: { workflowId: string; runId: string; events: number }[] = [];
    for (let i = 0; i < 1000; i++) {
      const found = await runsOf(temporal, `WorkflowId = ${quote(`${batchId}/partition-${i}`)}`);
      if (found.length === 0) break;
      runs.push(...found);
    }
    return runs;
  }
}

type BatchRun = { workflowId: string; runId: string; events: number };

/** Every run of the batch workflow and of its partitions, oldest first, with its history length. */
export async function batchRunsOf(
  temporal: Client,
  batchId: string,
): Promise<{ batch: BatchRun[]; partitions: BatchRun[] }> {
  return {
    batch: await runsOf(temporal, `WorkflowId = ${quote(batchId)}`),
    partitions: await partitionRuns(temporal, batchId),
  };
}

/** The batch's tile workflows that have closed, by id, once visibility lists `expectedTiles` of them. */
export async function closedTilesOf(
  temporal: Client,
  batchId: string,
  expectedTiles: number,
): Promise<{ workflowId: string; runId: string; events: number }[]> {
  const tileQuery = `OpenEOBatchId = ${quote(batchId)} AND ExecutionStatus != 'Running'`;
  for (let i = 0; i < 60; i++) {
    if ((await temporal.workflow.count(tileQuery)).count >= expectedTiles) break;
    await sleep(1000);
  }
  const tiles: { workflowId: string; runId: string; events: number }[] = [];
  for await (const wf of temporal.workflow.list({ query: tileQuery })) {
    tiles.push({ workflowId: wf.workflowId, runId: wf.runId, events: wf.historyLength });
  }
  return tiles.sort((a, b) => a.workflowId.localeCompare(b.workflowId));
}

/** An even spread of at most `size` of `items` over the whole list (a grid's rows, not its first one). */
export function spreadSample<T>(items: T[], size: number): T[] {
  const step = Math.max(1, Math.floor(items.length / size));
  return items.filter((_, i) => i % step === 0).slice(0, size);
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

/**
 * Measures a finished batch. Waits (bounded) until visibility lists all `expectedTiles` closed
 * tiles, since visibility may trail the workflows themselves.
 */
export async function measureHistories(
  temporal: Client,
  batchId: string,
  expectedTiles: number,
  sampleSize = 50,
): Promise<HistoryFigures> {
  const tiles = await closedTilesOf(temporal, batchId, expectedTiles);
  const { batch, partitions } = await batchRunsOf(temporal, batchId);
  const batchEventsPerRun = batch.map((r) => r.events);
  // An even spread over the grid, not just its first row.
  const sample = spreadSample(tiles, sampleSize);
  const sampled: number[] = [];
  const types = new Map<string, number>();
  const steps: StepSums = new Map();
  for (const tile of sample) sampled.push(await eventsOf(temporal, tile.workflowId, tile.runId, types, steps));
  const perTile = (n: number) => Math.round((n / Math.max(1, sample.length)) * 100) / 100;
  const sampleEventTypes = Object.fromEntries(
    [...types].sort((a, b) => b[1] - a[1]).map(([type, n]) => [type, perTile(n)]),
  );

  const listed = tiles.map((t) => t.events);
  const candidates = [
    ...batch.map((r, i) => ({ events: r.events, name: `${batchId} run ${i + 1}/${batch.length}` })),
    ...partitions.map((r) => ({ events: r.events, name: `${r.workflowId} run ${r.runId}` })),
    ...tiles.map((t) => ({ events: t.events, name: t.workflowId })),
    ...sample.map((t, i) => ({ events: sampled[i], name: t.workflowId })),
  ];
  const longest = candidates.reduce((a, b) => (b.events > a.events ? b : a), { events: 0, name: '-' });
  return {
    batchRuns: batch.length,
    batchEventsPerRun,
    partitionRuns: partitions.length,
    partitionEventsMax: Math.max(0, ...partitions.map((r) => r.events)),
    tiles: tiles.length,
    tileEventsMax: Math.max(0, ...listed),
    tileEventsMean: mean(listed),
    sampleSize: sample.length,
    sampleEventsMax: Math.max(0, ...sampled),
    sampleEventsMean: mean(sampled),
    sampleEventTypes,
    sampleSteps: Object.fromEntries(
      [...steps].map(([step, sum]) => [
        step,
        { perTile: perTile(sum.n), queueMs: Math.round(sum.queue / sum.n), runMs: Math.round(sum.run / sum.n) },
      ]),
    ),
    longestRunEvents: longest.events,
    longestRun: longest.name,
  };
}

/**
 * A throughput batch longer than one bench process. With `--state-dir`, the dev server's SQLite
 * file, the emulator's state file and this record live in one directory: a leg stopped by
 * `--stop-after-minutes` leaves its batch in Temporal, and the same command again starts server,
 * emulator and a fresh worker on those files and carries the batch on. The figures are the sums
 * (time, CPU, tiles) and extremes (peak RSS) over every leg.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically } from '../src/core/write-atomically';

/** One bench process's share of the batch. */
export interface Leg {
  startedAt: string;
  wallSeconds: number;
  /** Tiles finished when the leg began and when it ended. */
  finishedBefore: number;
  finishedAfter: number;
  /** This leg's worker: RSS once a minute, its peak, and its peak while starting. */
  workerRssMbPerMinute: number[];
  workerPeakRssMb: number;
  workerStartupPeakRssMb: number;
  /** CPU seconds of the dev server, the worker and the bench process during the leg. */
  cpuSeconds: { server?: number; worker?: number; bench?: number };
  /** Whether the batch ended in this leg. */
  ended: boolean;
}

/** Every leg of one batch, oldest first. */
export interface LongRun {
  version: 1;
  batchId: string;
  tiles: number;
  legs: Leg[];
}

const fileOf = (dir: string, tiles: number) => join(dir, `throughput-${tiles}.json`);

/**
 * The record of the batch of `tiles` in `dir`; a fresh one when there is none.
 * @throws when the record is unreadable, or its batch already ended (nothing to carry on)
 */
export async function readLongRun(dir: string, tiles: number, batchId: string): Promise<LongRun> {
  let text: string;
  try {
    text = await readFile(fileOf(dir, tiles), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, batchId, tiles, legs: [] };
    throw error;
  }
  const run = JSON.parse(text) as Partial<LongRun>;
  if (run.version !== 1 || run.batchId !== batchId || !Array.isArray(run.legs)) {
    throw new Error(`--state-dir: ${fileOf(dir, tiles)} is not the record of batch ${batchId}; give another directory`);
  }
  if (run.legs.some((leg) => leg.ended)) {
    throw new Error(
      `--state-dir: the ${tiles}-tile batch in ${dir} already ended; its figures were reported then. Give a new directory to run another`,
    );
  }
  return run as LongRun;
}

/** Writes the record atomically, so a crash keeps the last one. */
export async function writeLongRun(dir: string, run: LongRun): Promise<void> {
  await writeFileAtomically(fileOf(dir, run.tiles), `${JSON.stringify(run, null, 1)}\n`);
}

const sum = (values: (number | undefined)[]) =>
  values.some((v) => v === undefined) ? undefined : values.reduce<number>((a, v) => a + (v ?? 0), 0);

/** The legs so far as one run: time and CPU added up, RSS samples in order, the highest peaks. */
export function allLegs(run: LongRun) {
  const legs = run.legs;
  return {
    legs: legs.length,
    wallSeconds: legs.reduce((a, leg) => a + leg.wallSeconds, 0),
    finished: legs.at(-1)?.finishedAfter ?? 0,
    workerRssMbPerMinute: legs.flatMap((leg) => leg.workerRssMbPerMinute),
    workerPeakRssMb: Math.max(0, ...legs.map((leg) => leg.workerPeakRssMb)),
    workerStartupPeakRssMb: Math.max(0, ...legs.map((leg) => leg.workerStartupPeakRssMb)),
    cpuSeconds: {
      server: sum(legs.map((leg) => leg.cpuSeconds.server)),
      worker: sum(legs.map((leg) => leg.cpuSeconds.worker)),
      bench: sum(legs.map((leg) => leg.cpuSeconds.bench)),
    },
    ended: legs.some((leg) => leg.ended),
  };
}

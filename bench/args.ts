/** Command-line flags of `npm run bench -- …`. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

export const SCENARIOS = [
  'throughput',
  'makespan',
  'polling',
  'waiting',
  'workers',
  'chaos',
  'export',
  'dashboard',
  'actions',
] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface BenchOptions {
  /** Batch sizes of the throughput scenario. */
  tiles: number[];
  scenarios: Set<Scenario>;
  /** Run the 10-minute polling scenario and the long makespan run after the others instead of alongside them. */
  serial: boolean;
  /** Skip the scenarios of 10-minute jobs (polling, actions, the long makespan run). */
  skipLong: boolean;
  /** How long the polling scenario's job runs; the target is defined for 600 s. */
  pollingJobSeconds: number;
  /** Keep the dev server's SQLite durability (fsync on every commit) instead of `synchronous=OFF`. */
  durableSqlite: boolean;
  /** How long the actions scenario's jobs run; its target is defined for 600 s. */
  actionsJobSeconds: number;
  actionsParallel: number;
  /** Tiles in the chaos run (the test suite runs 50). */
  chaosTiles: number;
  /** Tiles of the batch the export scenario pauses and exports. */
  exportTiles: number;
  /** Tiles whose jobs all wait at once in the waiting scenario. */
  waitingTiles: number;
  /** Tiles of the batch run on several workers. */
  workersTiles: number;
  /**
   * Minutes after which a throughput batch still running is stopped and measured as far as it
   * got (the 100,000-tile batch takes hours here); unset: every batch runs to its end.
   */
  stopAfterMinutes?: number;
  /** V8's old-space limit for the worker processes (`--max-old-space-size`); unset: Node's default. */
  workerMaxHeapMiB?: number;
  /** A shared library preloaded into the worker processes (`LD_PRELOAD`), e.g. another malloc. */
  workerPreload?: string;
  /** Where a throughput batch is kept between bench runs, to be carried on (see long-run.ts). */
  stateDir?: string;
}

export const USAGE = `usage: node dist/bench/run.js [options]
  --tiles N[,N…]          throughput batch sizes (default 1000,10000)
  --quick                 the short version: --tiles 1000 --skip-long
  --skip-long             skip the scenarios of 10-minute jobs (polling, actions, makespan 8 × 2 × 600 s)
  --only S[,S…]           run only these scenarios: ${SCENARIOS.join(', ')}
  --serial                run the polling scenario and the long makespan run after the others, not alongside them
  --polling-job-seconds N how long the polling scenario's job runs (default 600; targets assume 600)
  --actions-job-seconds N how long the actions scenario's 8 jobs run (default 600; the target assumes 600)
  --actions-parallel N    the actions scenario's parallelJobs (default 8, all at once; below 8 tiles line up)
  --durable-sqlite        keep the dev server's SQLite fsync on every commit (about 3× slower here)
  --chaos-tiles N         tiles in the chaos run: faults, worker kills, a server restart (default 200)
  --export-tiles N        tiles of the batch the export scenario runs a tenth of, pauses and exports
                          in each format (default 10000; --quick 1000)
  --waiting-tiles N       tiles whose jobs all wait at once when the worker's slots are counted (default 500)
  --workers-tiles N       tiles of the batch run on 3 worker processes (default 1000; --quick 300)
  --tiles 100000          the 100,000-tile batch (hours on 2 cores): worker peak RSS and history limits
  --stop-after-minutes M  stop a throughput batch still running after M minutes and report it as far
                          as it got: tiles finished, worker RSS over time, longest run, time to the end
  --worker-max-heap-mib N run the worker processes with node --max-old-space-size=N (64–16384)
  --worker-preload LIB    preload LIB into the worker processes (LD_PRELOAD), e.g. jemalloc's libjemalloc.so.2
  --state-dir DIR         (with --only throughput) keep the dev server, the emulator's jobs and the figures
                          in DIR: a batch stopped by --stop-after-minutes is left running there, and the
                          same command again carries it on, adding up the figures of every leg`;

/** A tile count `gridSpec` makes exactly: up to 100 in a row, else full rows of 100. */
function validGrid(t: number): boolean {
  return Number.isInteger(t) && t >= 1 && t <= 100_000 && (t <= 100 || t % 100 === 0);
}

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      tiles: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'skip-long': { type: 'boolean', default: false },
      only: { type: 'string' },
      serial: { type: 'boolean', default: false },
      'polling-job-seconds': { type: 'string' },
      'actions-job-seconds': { type: 'string' },
      'actions-parallel': { type: 'string' },
      'durable-sqlite': { type: 'boolean', default: false },
      'chaos-tiles': { type: 'string' },
      'export-tiles': { type: 'string' },
      'waiting-tiles': { type: 'string' },
      'workers-tiles': { type: 'string' },
      'stop-after-minutes': { type: 'string' },
      'worker-max-heap-mib': { type: 'string' },
      'worker-preload': { type: 'string' },
      'state-dir': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) throw new Error(USAGE);
  const tiles = (values.tiles ?? (values.quick ? '1000' : '1000,10000')).split(',').map((t) => Number(t.trim()));
  for (const t of tiles) {
    if (!validGrid(t)) {
      throw new Error(
        `--tiles: ${t} is not a tile count the grid can make (1–100, or a multiple of 100 up to 100,000)\n${USAGE}`,
      );
    }
  }
  const scenarios = new Set<Scenario>(values.only ? [] : SCENARIOS);
  for (const s of values.only?.split(',') ?? []) {
    if (!(SCENARIOS as readonly string[]).includes(s.trim()))
      throw new Error(`--only: unknown scenario "${s}"\n${USAGE}`);
    scenarios.add(s.trim() as Scenario);
  }
  if (values.quick || values['skip-long']) {
    scenarios.delete('polling');
    scenarios.delete('actions');
  }
  const pollingJobSeconds = Number(values['polling-job-seconds'] ?? 600);
  if (!(pollingJobSeconds > 0 && pollingJobSeconds <= 3600)) throw new Error(`--polling-job-seconds: 1–3600\n${USAGE}`);
  const actionsJobSeconds = Number(values['actions-job-seconds'] ?? 600);
  if (!(actionsJobSeconds > 0 && actionsJobSeconds <= 3600)) throw new Error(`--actions-job-seconds: 1–3600\n${USAGE}`);
  const actionsParallel = Number(values['actions-parallel'] ?? 8);
  if (!Number.isInteger(actionsParallel) || actionsParallel < 1 || actionsParallel > 8)
    throw new Error(`--actions-parallel: 1–8\n${USAGE}`);
  const chaosTiles = Number(values['chaos-tiles'] ?? (values.quick ? 50 : 200));
  if (!Number.isInteger(chaosTiles) || chaosTiles < 5 || chaosTiles % 5 !== 0)
    throw new Error(`--chaos-tiles: a multiple of 5 (the chaos grid has 5 rows)\n${USAGE}`);
  const exportTiles = Number(values['export-tiles'] ?? (values.quick ? 1000 : 10_000));
  if (!validGrid(exportTiles))
    throw new Error(
      `--export-tiles: ${exportTiles} is not a tile count the grid can make (1–100, or a multiple of 100 up to 100,000)\n${USAGE}`,
    );
  const waitingTiles = Number(values['waiting-tiles'] ?? 500);
  if (!validGrid(waitingTiles))
    throw new Error(`--waiting-tiles: ${waitingTiles} is not a tile count the grid can make\n${USAGE}`);
  const workersTiles = Number(values['workers-tiles'] ?? (values.quick ? 300 : 1000));
  if (!validGrid(workersTiles))
    throw new Error(`--workers-tiles: ${workersTiles} is not a tile count the grid can make\n${USAGE}`);
  const stopAfter = values['stop-after-minutes'] === undefined ? undefined : Number(values['stop-after-minutes']);
  if (stopAfter !== undefined && !(stopAfter > 0 && stopAfter <= 24 * 60))
    throw new Error(`--stop-after-minutes: 1–1440\n${USAGE}`);
  const maxHeap = values['worker-max-heap-mib'] === undefined ? undefined : Number(values['worker-max-heap-mib']);
  if (maxHeap !== undefined && !(Number.isInteger(maxHeap) && maxHeap >= 64 && maxHeap <= 16_384))
    throw new Error(`--worker-max-heap-mib: a whole number of MiB, 64–16384\n${USAGE}`);
  const preload = values['worker-preload'];
  if (preload !== undefined && !existsSync(preload))
    throw new Error(
      `--worker-preload: ${preload} does not exist; give the path of a shared library (e.g. /usr/lib/x86_64-linux-gnu/libjemalloc.so.2)\n${USAGE}`,
    );
  const stateDir = values['state-dir'];
  if (stateDir !== undefined && (scenarios.size !== 1 || !scenarios.has('throughput'))) {
    throw new Error(`--state-dir: only the throughput scenario carries a batch over; add --only throughput\n${USAGE}`);
  }
  return {
    tiles,
    scenarios,
    serial: values.serial ?? false,
    skipLong: (values.quick ?? false) || (values['skip-long'] ?? false),
    pollingJobSeconds,
    actionsJobSeconds,
    actionsParallel,
    durableSqlite: values['durable-sqlite'] ?? false,
    chaosTiles,
    exportTiles,
    waitingTiles,
    workersTiles,
    ...(stopAfter !== undefined ? { stopAfterMinutes: stopAfter } : {}),
    ...(maxHeap !== undefined ? { workerMaxHeapMiB: maxHeap } : {}),
    ...(preload !== undefined ? { workerPreload: preload } : {}),
    ...(stateDir !== undefined ? { stateDir: resolve(stateDir) } : {}),
  };
}

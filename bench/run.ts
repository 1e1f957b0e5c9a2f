/**
 * `npm run bench`: the project's performance figures against the openEO emulator and a local
 * Temporal dev server. See `bench/args.ts` for flags; `--quick` is the short version.
 *
 * The worker runs in a child process (one per scenario), so its RSS is the worker's alone. The
 * 10-minute polling scenario and the makespan run of 10-minute jobs (40 minutes) run alongside
 * the others unless `--serial`: they are idle tiles most of the time. The
 * 11-minute actions scenario runs last, alone, since it reads the server's own counters.
 */
import { parseOptions } from './args';
import { chaosFigures, runChaos } from '../test/harness/chaos-run';
import { Report } from './report';
import { actionsScenario } from './scenarios/actions';
import { exportScenario } from './scenarios/export';
import { dashboardScenario } from './scenarios/dashboard';
import { LONG_JOB_MS, MAKESPANS } from './makespans';
import { makespan, type MakespanSettings } from './scenarios/makespan';
import { pollingCost } from './scenarios/polling-cost';
import { throughput } from './scenarios/throughput';
import { waitingSlots } from './scenarios/waiting';
import { manyWorkers } from './scenarios/workers';
import { judge, type Results } from './targets';
import { startWorld, type BenchWorld } from './world';

async function scenario<T>(name: string, report: Report, body: () => Promise<T>): Promise<T | undefined> {
  const started = Date.now();
  console.log(`== ${name}`);
  try {
    const result = await body();
    console.log(`== ${name}: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return result;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    report.note(`${name} failed: ${message}`);
    process.exitCode = 1;
    return undefined;
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const report = new Report();
  const started = Date.now();
  const results: Results = { throughput: [], makespan: [] };
  let world: BenchWorld | undefined;
  try {
    // The benchmark's SQLite file is thrown away afterwards; fsync per commit would make the
    // disk, not the orchestration, the thing measured (and 10,000 tiles take ~3× longer).
    const sqlitePragmas = options.durableSqlite ? [] : ['synchronous=OFF'];
    const workerLaunch = {
      ...(options.workerMaxHeapMiB ? { maxHeapMiB: options.workerMaxHeapMiB } : {}),
      ...(options.workerPreload ? { preload: options.workerPreload } : {}),
    };
    world = await startWorld((line) => console.log(line), {
      sqlitePragmas,
      workerLaunch,
      ...(options.stateDir ? { stateDir: options.stateDir } : {}),
    });
    const w = world;
    report.note(
      'worker: the project worker (createOpenEOWorker) in a child process per scenario; RSS is that process alone',
    );
    report.note(
      `worker launch: ${options.workerMaxHeapMiB ? `node --max-old-space-size=${options.workerMaxHeapMiB}` : "Node's default heap limit"}${options.workerPreload ? `, LD_PRELOAD=${options.workerPreload}` : ''}`,
    );
    const sqliteFile = options.stateDir ? `the SQLite file kept in ${options.stateDir}` : 'a temporary SQLite file';
    report.note(
      `dev server: headless start-dev on ${sqliteFile}${sqlitePragmas.length ? ` with PRAGMA ${sqlitePragmas.join(', ')}` : ' (durable)'}`,
    );
    const runPolling = () =>
      scenario('polling cost: one 10-minute job', report, async () => {
        const figures = await pollingCost(w, report, options.pollingJobSeconds * 1000);
        results.polling = { ...figures, runningMs: options.pollingJobSeconds * 1000 };
      });
    const polling = options.scenarios.has('polling') && !options.serial ? runPolling() : undefined;
    const runMakespan = (settings: MakespanSettings) =>
      scenario(
        `makespan: ${settings.tiles} tiles × ${settings.runningMs / 1000} s, parallelJobs ${settings.parallelJobs}`,
        report,
        () => makespan(w, report, settings),
      ).then((figures) => void (figures && results.makespan.push(figures)));
    const makespans = options.scenarios.has('makespan')
      ? MAKESPANS.filter((m) => m.runningMs < LONG_JOB_MS || !options.skipLong)
      : [];
    const alongside = options.serial ? [] : makespans.filter((m) => m.runningMs >= LONG_JOB_MS).map(runMakespan);
    if (options.scenarios.has('throughput')) {
      for (const tiles of options.tiles) {
        const figures = await scenario(`throughput: ${tiles} instant tiles, parallelJobs 100`, report, () =>
          throughput(w, tiles, report, options.stopAfterMinutes),
        );
        if (figures) results.throughput.push(figures);
      }
    }
    if (options.scenarios.has('export')) {
      // The largest throughput batch (every tile ended) is exported too, when it ran.
      const ended = [...results.throughput].sort((a, b) => b.tiles - a.tiles)[0];
      results.exports = await scenario(
        `export: ${options.exportTiles} tiles in CSV, GeoJSON and GeoParquet`,
        report,
        () => exportScenario(w, options.exportTiles, report, ended ? `bench-throughput-${ended.tiles}` : undefined),
      );
    }
    for (const settings of makespans)
      if (options.serial || settings.runningMs < LONG_JOB_MS) await runMakespan(settings);
    if (options.scenarios.has('waiting')) {
      results.waiting = await scenario(
        `waiting: worker slots held by ${options.waitingTiles} waiting jobs`,
        report,
        () => waitingSlots(w, report, options.waitingTiles),
      );
    }
    if (options.scenarios.has('workers')) {
      results.workers = await scenario(`workers: ${options.workersTiles} tiles on 3 worker processes`, report, () =>
        manyWorkers(w, report, options.workersTiles),
      );
    }
    if (options.scenarios.has('chaos')) {
      const maxAttempts = 2;
      await scenario(
        `chaos: ${options.chaosTiles} tiles under faults, 3 worker kills, a server restart`,
        report,
        async () => {
          // Its own dev server and emulator: the kills and the restart must not touch the others.
          const r = await runChaos({
            tiles: options.chaosTiles,
            parallelJobs: 20,
            maxAttempts,
            killAfterMs: [5_000, 8_000, 6_000],
            seed: 7,
            log: (line) => console.log(`  ${line}`),
          });
          report.figure('chaos', 'chaos run', chaosFigures(r));
          results.chaos = { ...r, maxAttempts };
        },
      );
    }
    if (options.scenarios.has('dashboard')) {
      results.dashboard = await scenario(
        'dashboard: the live map of a 10,000-tile batch in headless Chromium',
        report,
        () => dashboardScenario(w, report),
      );
    }
    await Promise.all(alongside);
    if (polling) await polling;
    else if (options.scenarios.has('polling')) await runPolling();
    // Last and alone: it reads the server's own action counter, which every scenario adds to.
    if (options.scenarios.has('actions')) {
      results.actions = await scenario(
        `actions: Temporal Cloud Actions per tile, 8 jobs of ${options.actionsJobSeconds} s, ${options.actionsParallel} at once`,
        report,
        () => actionsScenario(w, report, options.actionsJobSeconds * 1000, options.actionsParallel),
      );
    }
  } finally {
    await world?.close().catch((err: unknown) => console.error(`cleanup failed: ${String(err)}`));
  }
  console.log('== targets');
  judge(results, report);
  const wallSeconds = (Date.now() - started) / 1000;
  report.figure('benchWallSeconds', 'benchmark wall time', wallSeconds, 's');
  console.log(
    report.json({
      options: {
        tiles: options.tiles,
        exportTiles: options.exportTiles,
        waitingTiles: options.waitingTiles,
        workersTiles: options.workersTiles,
        scenarios: [...options.scenarios],
        serial: options.serial,
      },
    }),
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});

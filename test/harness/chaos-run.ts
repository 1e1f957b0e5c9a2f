/**
 * One chaos run: a batch while the emulator injects 5xx, 429, connection resets, truncated
 * downloads and failing jobs, the worker (in its own process) is killed with SIGKILL several
 * times and the Temporal dev server is restarted once. It returns what a test or the benchmark
 * checks: how every tile ended, the jobs per attempt, the files' checksums, jobs left running.
 * The test suite runs it with 50 tiles; `npm run bench` with more.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { OpenEOBatchClient } from '../../src/app/client';
import { startDevServer, type DevServer } from '../../src/tools/devserver';
import { startEmulator, type RunningEmulator } from '../../src/tools/emulator';
import type { EmulatorStats } from '../../src/tools/emulator/stats';
import type { BatchSummary } from '../../src/core/records';
import { DEV_SERVER_SEARCH_ATTRIBUTES } from '../../src/core/search-attributes';
import { UPGRADE_PATCH } from './upgrade-patch';

const USER = { username: 'chaos', password: 'chaos-password' };
const BAP_UDP =
  'https://github.com/ESA-APEx/apex_algorithms/raw/refs/heads/main/algorithm_catalog/vito/bap_composite/openeo_udp/bap_composite.json';

export interface ChaosOptions {
  /** Tiles in the batch: columns of 5 km tiles, 5 rows. */
  tiles: number;
  parallelJobs: number;
  maxAttempts: number;
  /** Milliseconds between the kills; the server restarts after the second. */
  killAfterMs: number[];
  /** After this kill (0-based), the worker comes back as the next release (a patched change). */
  upgradeAtKill?: number;
  /**
   * Count the first kill's wait from when the batch's first tile runs, not from its start. A kill
   * while the batch still checks its spec costs that check's whole start-to-close timeout (five
   * minutes, it has no heartbeat) before another worker takes it up: a short run cannot spend it,
   * and it meets no tile anyway.
   * @default false
   */
  killsOnceTilesRun?: boolean;
  /**
   * Tiles (by id) whose every job fails, so that a tile ends in error after all its attempts
   * in every run, not only when the random job failures happen to hit one tile twice.
   * @default []
   */
  failingTiles?: string[];
  seed: number;
  log?: (line: string) => void;
}

export interface ChaosResult {
  summary: BatchSummary;
  stats: EmulatorStats;
  /** openEO jobs per tile attempt title (each should be 1). */
  jobsPerTitle: Record<string, number>;
  /** Jobs per tile. */
  attemptsPerTile: Map<string, number>;
  /** Jobs still queued or running on the emulator at the end. */
  activeJobs: string[];
  /** Finished tiles whose files do not match `file:checksum`. */
  checksumMismatches: string[];
  finishedTilesListed: number;
  kills: number;
  serverRestarts: number;
  /** Tiles that ran on the upgraded build (their history has its patch marker); 0 without an upgrade. */
  tilesOnUpgradedBuild: number;
  wallSeconds: number;
}

/** Starts a worker process and resolves once it polls. */
async function startWorker(
  server: DevServer,
  emulator: RunningEmulator,
  taskQueue: string,
  upgraded = false,
): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(__dirname, 'chaos-worker.js')], {
    env: {
      ...process.env,
      OPENEO_TEST_WORKER: JSON.stringify({
        address: server.address,
        namespace: server.namespace,
        taskQueue,
        credentials: { emulator: { url: emulator.url, auth: { type: 'basic', ...USER } } },
        requestTimeoutMs: 3_000,
        ...(upgraded ? { workflowsPath: require.resolve('./upgraded-workflows') } : {}),
      }),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`the worker exited with ${code} before it was ready`)));
  });
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

/** Files of every finished tile whose checksum differs from the one its results document gives. */
async function checksumMismatches(outputDir: string, batchId: string, tileIds: string[]): Promise<string[]> {
  const bad: string[] = [];
  for (const tileId of tileIds) {
    const dir = join(outputDir, batchId, tileId);
    const metadata = JSON.parse(await readFile(join(dir, 'job.json'), 'utf8')) as {
      results: { assets: Record<string, { 'file:checksum': string }> };
    };
    for (const [key, asset] of Object.entries(metadata.results.assets)) {
      const file = await readFile(join(dir, key.split('/').pop()!));
      if (`1220${createHash('sha256').update(file).digest('hex')}` !== asset['file:checksum'])
        bad.push(`${tileId}/${key}`);
    }
  }
  return bad;
}

/** Waits until `count` tiles of the batch have finished. */
async function untilFinished(client: OpenEOBatchClient, batchId: string, count: number): Promise<void> {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    const progress = await client.progress(batchId).catch(() => undefined);
    if (progress && progress.counts.finished >= count) return;
    if (Date.now() > deadline) throw new Error(`the chaos batch did not finish ${count} tiles within 10 minutes`);
    await sleep(500);
  }
}

/** Waits until a tile of the batch has started its work (running, or already ended). */
async function untilTilesRun(client: OpenEOBatchClient, batchId: string): Promise<void> {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    const progress = await client.progress(batchId).catch(() => undefined);
    if (progress && progress.counts.running + progress.counts.finished + progress.counts.error > 0) return;
    if (Date.now() > deadline) throw new Error('no tile of the chaos batch ran within 10 minutes');
    await sleep(200);
  }
}

/** Tile workflows whose history records the upgrade's patch marker. */
async function countPatched(client: OpenEOBatchClient, workflowIds: string[]): Promise<number> {
  let count = 0;
  for (const workflowId of workflowIds) {
    const history = await client.client.workflow.getHandle(workflowId).fetchHistory();
    if (history.events?.some(marksUpgradePatch)) count++;
  }
  return count;
}

/** A patch marker of the upgrade's own patch (tiles carry other patches too). */
function marksUpgradePatch(event: temporal.api.history.v1.IHistoryEvent): boolean {
  const marker = event.markerRecordedEventAttributes;
  if (marker?.markerName !== 'core_patch') return false;
  // The patch id is in the marker's details (key `patch-data`, JSON `{ id, deprecated }`).
  return Object.values(marker.details ?? {}).some((payloads) =>
    payloads.payloads?.some((p) => p.data && Buffer.from(p.data).toString('utf8').includes(UPGRADE_PATCH)),
  );
}

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const batchId = 'chaos';
  const taskQueue = `chaos-${process.pid}`;
  const workDir = await mkdtemp(join(tmpdir(), 'openeo-temporal-chaos-'));
  let server = await startDevServer({
    dataDir: join(workDir, 'temporal'),
    ui: false,
    searchAttributes: DEV_SERVER_SEARCH_ATTRIBUTES,
  });
  const emulator = await startEmulator({
    users: [USER],
    maxRunningJobsPerUser: options.parallelJobs * 2,
    jobDurations: { queuedMs: 100, runningMs: 600 },
    faults: {
      seed: options.seed,
      routes: [
        { route: '*', probability: 0.1, fault: { type: 'status', status: 503, code: 'InfrastructureBusy' } },
        { route: '*', probability: 0.05, fault: { type: 'status', status: 429, retryAfterSeconds: 1 } },
        { route: '* /jobs*', probability: 0.03, fault: { type: 'reset' } },
        { route: 'GET /jobs/{job_id}/results/assets/{asset_key}', probability: 0.15, fault: { type: 'truncate' } },
      ],
      jobs: {
        errorProbability: 0.1,
        ...(options.failingTiles?.length
          ? {
              rules: options.failingTiles.map((tileId) => ({
                titleContains: `${batchId}/${tileId} `,
                failFirst: options.maxAttempts,
              })),
            }
          : {}),
      },
    },
  });
  let worker: ChildProcess | undefined;
  let connection: Connection | undefined;
  try {
    worker = await startWorker(server, emulator, taskQueue);
    connection = await Connection.connect({ address: server.address });
    const cols = Math.ceil(options.tiles / 5);
    await new OpenEOBatchClient(new Client({ connection, namespace: server.namespace }), taskQueue).start({
      batchId,
      backends: [{ name: 'emulator', url: emulator.url, parallelJobs: options.parallelJobs }],
      process: { processId: 'bap_composite', namespace: BAP_UDP },
      parameterDefaults: { temporal_extent: ['2024-06-01', '2024-09-01'] },
      tiles: {
        aoi: { west: 590000, south: 5660000, east: 590000 + cols * 5000, north: 5685000, crs: 'EPSG:32631' },
        tileSize: 5000,
      },
      outputDir: join(workDir, 'output'),
      polling: { initialIntervalSeconds: 0.2, maxIntervalSeconds: 1 },
      maxAttempts: options.maxAttempts,
      // Retries wait at most 5 s: the faults are dense, and a test should not wait minutes for luck.
      // Waits of a killed worker move on within seconds too: the chaos is in the kills, not in the wait.
      timeouts: { heartbeatSeconds: 3, waitHeartbeatSeconds: 3, activitySeconds: 10, retryMaxIntervalSeconds: 5 },
    });

    if (options.killsOnceTilesRun)
      await untilTilesRun(
        new OpenEOBatchClient(new Client({ connection, namespace: server.namespace }), taskQueue),
        batchId,
      );
    for (const [i, wait] of options.killAfterMs.entries()) {
      await sleep(wait);
      // The upgrade must meet tiles that ran on the released build, however slow the machine.
      if (i === options.upgradeAtKill)
        await untilFinished(
          new OpenEOBatchClient(new Client({ connection, namespace: server.namespace }), taskQueue),
          batchId,
          Math.ceil(options.tiles / 5),
        );
      await kill(worker);
      log(`killed the worker (${i + 1} of ${options.killAfterMs.length})`);
      if (i === 1) {
        await connection.close();
        const port = Number(server.address.split(':')[1]);
        await server.stop();
        server = await startDevServer({
          dataDir: server.dataDir,
          port,
          ui: false,
          searchAttributes: DEV_SERVER_SEARCH_ATTRIBUTES,
        });
        connection = await Connection.connect({ address: server.address });
        log('restarted the Temporal dev server');
      }
      await sleep(500);
      const upgrade = options.upgradeAtKill !== undefined && i >= options.upgradeAtKill;
      worker = await startWorker(server, emulator, taskQueue, upgrade);
      if (i === options.upgradeAtKill) log('the worker came back as the upgraded build');
    }

    const client = new OpenEOBatchClient(new Client({ connection, namespace: server.namespace }), taskQueue);
    const summary: BatchSummary = await client.handle(batchId).result();
    const stats = emulator.admin.stats();
    const attemptsPerTile = new Map<string, number>();
    for (const [title, count] of Object.entries(stats.jobs.createdByTitle)) {
      const tileId = title.replace(`${batchId}/`, '').replace(/ attempt \d+$/, '');
      attemptsPerTile.set(tileId, (attemptsPerTile.get(tileId) ?? 0) + count);
    }
    const tiles = await client.tiles(batchId);
    const finished = tiles.filter((t) => t.status === 'finished').map((t) => t.tileId);
    return {
      summary,
      stats,
      jobsPerTitle: stats.jobs.createdByTitle,
      attemptsPerTile,
      activeJobs: emulator.admin
        .jobs()
        .filter((j) => j.status === 'queued' || j.status === 'running')
        .map((j) => j.title ?? j.id),
      checksumMismatches: await checksumMismatches(join(workDir, 'output'), batchId, finished),
      finishedTilesListed: finished.length,
      kills: options.killAfterMs.length,
      serverRestarts: options.killAfterMs.length > 1 ? 1 : 0,
      tilesOnUpgradedBuild:
        options.upgradeAtKill === undefined
          ? 0
          : await countPatched(
              client,
              tiles.map((t) => t.workflowId),
            ),
      wallSeconds: (Date.now() - started) / 1000,
    };
  } finally {
    if (worker && worker.exitCode === null) await kill(worker);
    await connection?.close();
    await emulator.close();
    await server.stop();
    await rm(workDir, { recursive: true, force: true });
  }
}

/** One line with the run's figures, as the test and the benchmark print them. */
export function chaosFigures(r: ChaosResult): string {
  const jobs = [...r.attemptsPerTile.values()].reduce((a, b) => a + b, 0);
  const faults = Object.entries(r.stats.faults.byType)
    .map(([type, n]) => `${type} ${n}`)
    .join(', ');
  const reasons: Record<string, number> = {};
  for (const failed of r.summary.failedTiles) reasons[failed.error.code] = (reasons[failed.error.code] ?? 0) + 1;
  return (
    `faults injected ${r.stats.faults.total} (${faults}), requests ${r.stats.requests.total}, worker kills survived ${r.kills}, ` +
    `server restarts ${r.serverRestarts}, tiles finished ${r.summary.counts.finished}, error ${r.summary.counts.error}` +
    `${
      r.summary.counts.error
        ? ` (${Object.entries(reasons)
            .map(([code, n]) => `${code} ${n}`)
            .join(', ')})`
        : ''
    }, ` +
    `jobs per tile ${(jobs / Math.max(1, r.attemptsPerTile.size)).toFixed(2)}, ` +
    `${r.tilesOnUpgradedBuild ? `tiles on the upgraded build ${r.tilesOnUpgradedBuild}, ` : ''}wall time ${r.wallSeconds.toFixed(0)} s`
  );
}

/**
 * The chaos test: a 50-tile batch while the emulator injects 5xx, 429, connection resets,
 * truncated downloads and failing jobs, the worker is killed with SIGKILL three times and the
 * Temporal dev server is restarted once. Every tile must end finished or error after its allowed
 * attempts, with exactly one openEO job per tile attempt, verified files, and no job left running.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { OpenEOBatchClient } from '../src/client';
import { startDevServer, type DevServer } from '../src/devserver';
import { startEmulator, type RunningEmulator } from '../src/emulator';
import type { BatchSummary } from '../src/records';
import { DEV_SERVER_SEARCH_ATTRIBUTES } from '../src/search-attributes';
import type { BatchSpecInput } from '../src/spec/schema';
import { EMULATOR_USER } from './support/harness';

const BATCH = 'chaos';
const MAX_ATTEMPTS = 2;

describe('chaos: faults, worker kills and a server restart', () => {
  let workDir: string;
  let server: DevServer;
  let emulator: RunningEmulator;
  let worker: ChildProcess | undefined;
  const taskQueue = `chaos-${process.pid}`;

  const startWorker = async (): Promise<ChildProcess> => {
    const child = spawn(process.execPath, [join(__dirname, 'support', 'worker-main.js')], {
      env: {
        ...process.env,
        OPENEO_TEST_WORKER: JSON.stringify({
          address: server.address,
          namespace: server.namespace,
          taskQueue,
          credentials: { emulator: { url: emulator.url, auth: { type: 'basic', ...EMULATOR_USER } } },
          requestTimeoutMs: 3_000,
        }),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
      child.once('exit', (code) => reject(new Error(`the worker exited with ${code} before it was ready`)));
    });
    return child;
  };

  const killWorker = async () => {
    const child = worker!;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  };

  before(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'openeo-temporal-chaos-'));
    server = await startDevServer({ dataDir: join(workDir, 'temporal'), ui: false, searchAttributes: DEV_SERVER_SEARCH_ATTRIBUTES });
    emulator = await startEmulator({
      users: [EMULATOR_USER],
      maxRunningJobsPerUser: 50,
      jobDurations: { queuedMs: 100, runningMs: 600 },
      faults: {
        seed: 2026,
        routes: [
          { route: '*', probability: 0.1, fault: { type: 'status', status: 503, code: 'InfrastructureBusy' } },
          { route: '*', probability: 0.05, fault: { type: 'status', status: 429, retryAfterSeconds: 1 } },
          { route: '* /jobs*', probability: 0.03, fault: { type: 'reset' } },
          { route: 'GET /jobs/{job_id}/results/assets/{asset_key}', probability: 0.15, fault: { type: 'truncate' } },
        ],
        jobs: { errorProbability: 0.1 },
      },
    });
    worker = await startWorker();
  });
  after(async () => {
    worker?.kill('SIGKILL');
    await emulator?.close();
    await server?.stop();
    await rm(workDir, { recursive: true, force: true });
  });

  it('ends every tile once, with one job per attempt, verified files and no job left running', async () => {
    let connection = await Connection.connect({ address: server.address });
    const spec: BatchSpecInput = {
      batchId: BATCH,
      backends: [{ name: 'emulator', url: emulator.url, parallelJobs: 10 }],
      process: { processId: 'bap_composite', namespace: 'https://github.com/ESA-APEx/apex_algorithms/raw/refs/heads/main/algorithm_catalog/vito/bap_composite/openeo_udp/bap_composite.json' },
      parameterDefaults: { temporal_extent: ['2024-06-01', '2024-09-01'] },
      tiles: { aoi: { west: 590000, south: 5660000, east: 640000, north: 5685000, crs: 'EPSG:32631' }, tileSize: 5000 },
      outputDir: join(workDir, 'output'),
      polling: { initialIntervalSeconds: 0.2, maxIntervalSeconds: 1 },
      maxAttempts: MAX_ATTEMPTS,
      timeouts: { heartbeatSeconds: 3, activitySeconds: 10 },
    };
    await new OpenEOBatchClient(new Client({ connection, namespace: server.namespace }), taskQueue).start(spec);

    // Three kills at different moments, and one server restart between the second and third.
    const kills = [2_500, 4_000, 3_000];
    for (const [i, wait] of kills.entries()) {
      await sleep(wait);
      await killWorker();
      if (i === 1) {
        await connection.close();
        await server.stop();
        server = await startDevServer({ dataDir: server.dataDir, port: Number(server.address.split(':')[1]), ui: false, searchAttributes: DEV_SERVER_SEARCH_ATTRIBUTES });
        connection = await Connection.connect({ address: server.address });
      }
      await sleep(500);
      worker = await startWorker();
    }

    const client = new OpenEOBatchClient(new Client({ connection, namespace: server.namespace }), taskQueue);
    const summary: BatchSummary = await client.handle(BATCH).result();
    const stats = emulator.admin.stats();

    // Every tile ended, as finished or as error after all its attempts.
    assert.equal(summary.totalTiles, 50);
    assert.equal(summary.counts.finished + summary.counts.error, 50, JSON.stringify(summary.counts));
    // Exactly one openEO job per tile attempt, never more attempts than allowed.
    const attemptsPerTile = new Map<string, number>();
    for (const [title, count] of Object.entries(stats.jobs.createdByTitle)) {
      assert.equal(count, 1, `one job for "${title}"`);
      const tileId = title.replace(`${BATCH}/`, '').replace(/ attempt \d+$/, '');
      attemptsPerTile.set(tileId, (attemptsPerTile.get(tileId) ?? 0) + 1);
    }
    assert.equal(attemptsPerTile.size, 50);
    assert.ok([...attemptsPerTile.values()].every((n) => n >= 1 && n <= MAX_ATTEMPTS));
    // No job left queued or running on the backend.
    const active = emulator.admin.jobs().filter((j) => j.status === 'queued' || j.status === 'running');
    assert.deepEqual(active.map((j) => j.title), []);
    // Every finished tile's files match their checksums.
    const finished = (await client.tiles(BATCH)).filter((t) => t.status === 'finished');
    assert.equal(finished.length, summary.counts.finished);
    for (const tile of finished) {
      const dir = join(workDir, 'output', BATCH, tile.tileId);
      const metadata = JSON.parse(await readFile(join(dir, 'job.json'), 'utf8')) as { results: { assets: Record<string, { href: string; 'file:checksum': string }> } };
      for (const [key, asset] of Object.entries(metadata.results.assets)) {
        const file = await readFile(join(dir, key.split('/').pop()!));
        assert.equal(`1220${createHash('sha256').update(file).digest('hex')}`, asset['file:checksum'], `${tile.tileId}/${key}`);
      }
    }

    const jobsPerTile = [...attemptsPerTile.values()].reduce((a, b) => a + b, 0) / attemptsPerTile.size;
    console.log(
      `chaos figures: faults injected ${stats.faults.total} (${Object.entries(stats.faults.byType).map(([t, n]) => `${t} ${n}`).join(', ')}), ` +
        `requests ${stats.requests.total}, worker kills survived ${kills.length}, server restarts 1, ` +
        `tiles finished ${summary.counts.finished}, error ${summary.counts.error}, jobs per tile ${jobsPerTile.toFixed(2)}`,
    );
    await connection.close();
  });
});

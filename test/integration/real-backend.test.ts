/**
 * What real backends do that the emulator does not by default, imitated over real HTTP with the
 * emulator's request hook and faults: logs that ignore `offset` or page with their own cursor,
 * assets that are gone, refused, unsupported or corrupt, and a cancel the backend accepts but
 * does not carry out.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { RequestHookContext, RequestHookOutcome, RunningEmulator } from '../../src/tools/emulator';
import { OpenEOConnections } from '../../src/core/openeo/connections';
import { readJobLogs } from '../../activities/error-logs';
import type { TileRecord } from '../../src/core/records';
import { tileProgress } from '../../workflows/messages';
import { Worker } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../../src/app/plugin';
import { EMULATOR_USER, startHarness, type Harness } from '../support/harness';

const LOGS_ROUTE = 'GET /openeo/1.2/jobs/{job_id}/logs';
const ASSET_ROUTE = 'GET /openeo/1.2/jobs/{job_id}/results/assets/{asset_key}';
const RESULTS_ROUTE = 'GET /openeo/1.2/jobs/{job_id}/results';

/** One behaviour per emulator that a test switches on, and off again when it ends. */
type Quirk = (context: RequestHookContext) => RequestHookOutcome | void;
const quirks: Record<string, Quirk | undefined> = {};
const hookFor = (name: string) => ({ beforeRoute: (context: RequestHookContext) => quirks[name]?.(context) });

async function withQuirk<T>(name: string, quirk: Quirk, run: () => Promise<T>): Promise<T> {
  quirks[name] = quirk;
  try {
    return await run();
  } finally {
    quirks[name] = undefined;
  }
}

function answerJson(context: RequestHookContext, status: number, body: unknown): RequestHookOutcome {
  context.res.writeHead(status, { 'Content-Type': 'application/json' });
  context.res.end(JSON.stringify(body));
  return { handled: true };
}

function requests(emulator: RunningEmulator, route: string): number {
  return Object.values(emulator.admin.stats().requests.byRoute[route] ?? {}).reduce((a, b) => a + b, 0);
}

const entry = (id: number) => ({
  id: String(id),
  level: 'error',
  code: 'Internal',
  message: `failure number ${id}`,
  time: '2024-01-01T00:00:00Z',
  links: [],
});

describe('what real backends do', () => {
  let h: Harness;
  let slow: RunningEmulator;
  let storage: RunningEmulator;
  before(async () => {
    h = await startHarness(
      { maxRunningJobsPerUser: 20, requestHook: hookFor('emulator') },
      {
        // Jobs run for a minute: long enough to time out and cancel.
        slow: {
          maxRunningJobsPerUser: 20,
          jobDurations: { queuedMs: 50, runningMs: 60_000 },
          requestHook: hookFor('slow'),
        },
        // Result files on a second origin, as on object storage behind signed links.
        storage: { maxRunningJobsPerUser: 20, jobDurations: { queuedMs: 50, runningMs: 150 }, assetOrigin: 'separate' },
      },
    );
    slow = h.backends.slow;
    storage = h.backends.storage;
    await h.startWorker({ cancelConfirmation: { checks: 2, intervalMs: 200 } });
  });
  after(async () => h?.teardown());

  describe('error logs', () => {
    it('reads the logs of a backend that ignores offset once, not 100 times', async () => {
      h.emulator.admin.setFaults({ jobs: { rules: [{ titleContains: 'ignores-offset/', failFirst: 1 }] } });
      h.emulator.admin.resetStats();
      // The whole log, whatever offset is asked for, and no links: what the backend did.
      const summary = await withQuirk(
        'emulator',
        (c) => (c.route === LOGS_ROUTE ? answerJson(c, 200, { logs: [entry(1), entry(2)], links: [] }) : undefined),
        async () =>
          (
            await h.client.start(h.spec({ batchId: 'ignores-offset', cols: 1, rows: 1, maxAttempts: 1 }))
          ).handle.result(),
      );
      const logRequests = requests(h.emulator, LOGS_ROUTE);
      console.log(`log requests for one failed job whose backend ignores offset: ${logRequests}`);
      assert.equal(summary.counts.error, 1);
      assert.equal(summary.failedTiles[0].error.message, 'failure number 1');
      assert.equal(logRequests, 1, 'a short page without a next link is the last one');
      const tileDir = join(h.workDir, 'output', 'ignores-offset', 'E590000-N5660000');
      const logs = JSON.parse(await readFile(join(tileDir, 'error-logs.json'), 'utf8')) as unknown[];
      assert.equal(logs.length, 2, 'each entry once');
      const job = JSON.parse(await readFile(join(tileDir, 'job.json'), 'utf8')) as {
        logs: { complete: boolean; pages: number };
      };
      assert.deepEqual([job.logs.complete, job.logs.pages], [true, 1]);
    });

    describe('paging, read directly', () => {
      let connections: OpenEOConnections;
      const connect = () => connections.get({ name: 'emulator', url: h.emulator.url });
      before(() => {
        connections = new OpenEOConnections({
          emulator: { url: h.emulator.url, auth: { type: 'basic', ...EMULATOR_USER } },
        });
      });
      /** A backend with its own cursor (`page`), ignoring offset: page n holds entries 2n-1, 2n. */
      const cursorPages =
        (last: number, nextOf: (page: number) => number = (page) => page + 1): Quirk =>
        (c) => {
          if (c.route !== LOGS_ROUTE) return undefined;
          const page = Number(new URL(c.req.url ?? '', 'http://x').searchParams.get('page') ?? 1);
          const links =
            page < last
              ? [{ rel: 'next', href: `${h.emulator.url}/openeo/1.2/jobs/j-any/logs?page=${nextOf(page)}` }]
              : [];
          return answerJson(c, 200, { logs: [entry(2 * page - 1), entry(2 * page)], links });
        };

      it('follows the next links of a backend that pages with its own cursor', async () => {
        h.emulator.admin.resetStats();
        const logs = await withQuirk('emulator', cursorPages(3), async () =>
          readJobLogs(await connect(), 'j-any', { pageSize: 2, maxPages: 20, maxEntries: 1000 }),
        );
        assert.deepEqual(
          logs.entries.map((e) => e.id),
          ['1', '2', '3', '4', '5', '6'],
        );
        assert.equal(logs.complete, true);
        assert.equal(requests(h.emulator, LOGS_ROUTE), 3);
      });

      it('stops when the next link points to a page already read', async () => {
        h.emulator.admin.resetStats();
        const logs = await withQuirk(
          'emulator',
          cursorPages(100, () => 2),
          async () => readJobLogs(await connect(), 'j-any', { pageSize: 2, maxPages: 20, maxEntries: 1000 }),
        );
        assert.deepEqual(
          logs.entries.map((e) => e.id),
          ['1', '2', '3', '4'],
        );
        assert.equal(requests(h.emulator, LOGS_ROUTE), 2);
      });

      it('caps the pages and the entries of an endless log, keeping what it read', async () => {
        const pages = await withQuirk('emulator', cursorPages(Infinity), async () =>
          readJobLogs(await connect(), 'j-any', { pageSize: 2, maxPages: 5, maxEntries: 1000 }),
        );
        assert.equal(pages.entries.length, 10);
        assert.equal(pages.complete, false);
        assert.match(pages.stoppedBecause, /5 pages/);
        const entries = await withQuirk('emulator', cursorPages(Infinity), async () =>
          readJobLogs(await connect(), 'j-any', { pageSize: 2, maxPages: 50, maxEntries: 7 }),
        );
        assert.equal(entries.entries.length, 7);
        assert.equal(entries.complete, false);
      });

      it('keeps the pages read when a later page fails', async () => {
        const failing: Quirk = (c) => {
          if (c.route === LOGS_ROUTE && c.req.url?.includes('page=2'))
            return answerJson(c, 500, { code: 'Internal', message: 'log store down' });
          return cursorPages(3)(c);
        };
        const logs = await withQuirk('emulator', failing, async () =>
          readJobLogs(await connect(), 'j-any', { pageSize: 2, maxPages: 20, maxEntries: 1000 }),
        );
        assert.deepEqual(
          logs.entries.map((e) => e.id),
          ['1', '2'],
        );
        assert.equal(logs.complete, false);
        assert.match(logs.stoppedBecause, /page 2 failed: Internal: log store down/);
      });
    });
  });

  describe('result downloads', () => {
    /** Runs a one-tile batch while `faults` apply; returns the tile's error and its folder's files. */
    async function failingDownload(
      batchId: string,
      emulator: RunningEmulator,
      faults: Parameters<RunningEmulator['admin']['setFaults']>[0],
      name = 'emulator',
    ) {
      const saved = emulator.admin.faults();
      emulator.admin.setFaults(faults);
      emulator.admin.resetStats();
      try {
        const spec = h.spec({ batchId, cols: 1, rows: 1 });
        spec.backends = [{ name, url: emulator.url, parallelJobs: 1 }];
        const summary = await (await h.client.start(spec)).handle.result();
        assert.equal(summary.counts.error, 1, JSON.stringify(summary.failedTiles));
        const files = await readdir(join(h.workDir, 'output', batchId, 'E590000-N5660000'));
        return { error: summary.failedTiles[0].error, files };
      } finally {
        emulator.admin.setFaults(saved);
      }
    }
    const always = (status: number, code: string, message?: string) => ({
      routes: [
        {
          route: 'GET /jobs/{job_id}/results/assets/{asset_key}',
          fault: { type: 'status' as const, status, code, ...(message ? { message } : {}) },
        },
      ],
    });

    it('fails a tile at once when an asset is gone (404), naming the asset and its URL without the signature', async () => {
      const { error, files } = await failingDownload('asset-404', h.emulator, always(404, 'NotFound'));
      assert.equal(error.code, 'AssetNotFound');
      assert.match(
        error.message,
        /asset "[^"]+" of job \S+ from http:\/\/127\.0\.0\.1:\d+\/openeo\/1\.2\/jobs\/\S+\/results\/assets\/\S+: answered HTTP 404/,
      );
      assert.doesNotMatch(error.message, /signature|expires=|\?/);
      assert.equal(requests(h.emulator, ASSET_ROUTE), 1, 'not retried');
      assert.ok(files.includes('job.json'), `job.json is written although the download failed: ${files}`);
    });

    it('retry-failed downloads the results of a finished job again, creating no new job', async () => {
      await failingDownload('asset-404-retried', h.emulator, always(404, 'NotFound'));
      const jobs = h.emulator.admin.stats().jobs.created;
      const { handle, tiles } = await h.client.retryFailed('asset-404-retried');
      assert.equal(tiles, 1);
      const summary = await handle.result();
      assert.equal(summary.counts.finished, 1, JSON.stringify(summary.failedTiles));
      assert.equal(h.emulator.admin.stats().jobs.created, jobs, 'no new job: the finished one is downloaded again');
      const files = await readdir(join(h.workDir, 'output', 'asset-404-retried', 'E590000-N5660000'));
      assert.ok(
        files.some((f) => f.endsWith('.tif')),
        `the result file is there now: ${files}`,
      );
    });

    it('fails a tile at once when the server says it cannot serve the asset (500 "not supported")', async () => {
      const { error } = await failingDownload(
        'asset-unsupported',
        h.emulator,
        always(500, 'Internal', 'Format GTiff is not supported for this asset'),
      );
      assert.equal(error.code, 'AssetUnsupported');
      assert.match(error.message, /not supported/);
      assert.equal(requests(h.emulator, ASSET_ROUTE), 1);
    });

    it('renews a refused signed link on a foreign origin once, then fails the tile as AssetForbidden', async () => {
      const { error } = await failingDownload(
        'asset-403',
        storage,
        always(403, 'AccessDenied', 'Request has expired or is forbidden'),
        'storage',
      );
      assert.equal(error.code, 'AssetForbidden');
      const stats = storage.admin.stats();
      assert.equal(requests(storage, ASSET_ROUTE), 2, 'the first link and the renewed one');
      assert.equal(
        stats.requests.byRoute[RESULTS_ROUTE]?.['200'],
        2,
        'the results document was fetched again for a fresh link',
      );
      assert.equal(stats.assetOrigin.withAuthorization, 0, 'no token went to the storage origin');
    });

    it('fails a tile whose asset has the wrong checksum after 3 full downloads', async () => {
      h.emulator.admin.resetStats();
      const corrupt: Quirk = (c) => {
        if (c.route !== ASSET_ROUTE) return undefined;
        return {
          beforeSend: (response, res) => {
            const bytes = Buffer.from(response.body);
            bytes[bytes.length - 1] ^= 0xff;
            res.writeHead(response.status, response.headers);
            res.end(bytes);
            return bytes.length;
          },
        };
      };
      const summary = await withQuirk('emulator', corrupt, async () =>
        (await h.client.start(h.spec({ batchId: 'asset-corrupt', cols: 1, rows: 1 }))).handle.result(),
      );
      assert.equal(summary.counts.error, 1);
      assert.equal(summary.failedTiles[0].error.code, 'ChecksumMismatch');
      assert.match(summary.failedTiles[0].error.message, /after 3 full downloads/);
      assert.equal(requests(h.emulator, ASSET_ROUTE), 3);
    });

    it('still retries a busy asset server (503) and finishes', async () => {
      const saved = h.emulator.admin.faults();
      h.emulator.admin.setFaults({
        routes: [
          {
            route: 'GET /jobs/{job_id}/results/assets/{asset_key}',
            onCalls: [1],
            fault: { type: 'status', status: 503 },
          },
        ],
      });
      try {
        const summary = await (
          await h.client.start(h.spec({ batchId: 'asset-busy', cols: 1, rows: 1 }))
        ).handle.result();
        assert.equal(summary.counts.finished, 1);
      } finally {
        h.emulator.admin.setFaults(saved);
      }
    });
  });

  describe('a cancel the backend does not carry out', () => {
    /** The backend accepts DELETE /jobs/{id}/results (204) and leaves the job running. */
    const ignoreCancel: Quirk = (c) => {
      if (c.route !== 'DELETE /openeo/1.2/jobs/{job_id}/results') return undefined;
      c.res.writeHead(204);
      c.res.end();
      return { handled: true };
    };

    it('says the backend still reports running, and submits no second job beside it', async () => {
      const spec = h.spec({
        batchId: 'cancel-ignored',
        cols: 1,
        rows: 1,
        maxAttempts: 2,
        timeouts: { cancelRunningJobAfterSeconds: 1 },
      });
      spec.backends = [{ name: 'slow', url: slow.url, parallelJobs: 1 }];
      const record = await withQuirk('slow', ignoreCancel, async () => {
        const { handle } = await h.client.start(spec);
        await handle.result();
        return (await h.temporal.workflow.getHandle('cancel-ignored/tile-E590000-N5660000').result()) as TileRecord;
      });
      assert.equal(record.status, 'error');
      assert.equal(record.backendStatus, 'running');
      assert.equal(record.error?.code, 'JobRanTooLong');
      assert.match(record.error?.message ?? '', /cancel requested; the backend still reports running/);
      assert.doesNotMatch(record.error?.message ?? '', /was cancelled/);
      const jobs = slow.admin.jobs().filter((j) => j.title?.startsWith('cancel-ignored/'));
      assert.deepEqual(
        jobs.map((j) => j.status),
        ['running'],
        'one job, still running on the backend',
      );
    });

    it('a cancelled batch records that the backend still runs the job', async () => {
      const spec = h.spec({ batchId: 'batch-cancel-ignored', cols: 1, rows: 1 });
      spec.backends = [{ name: 'slow', url: slow.url, parallelJobs: 1 }];
      const record = await withQuirk('slow', ignoreCancel, async () => {
        const { handle } = await h.client.start(spec);
        const deadline = Date.now() + 30_000;
        while (!slow.admin.jobs().some((j) => j.title?.startsWith('batch-cancel-ignored/') && j.status === 'running')) {
          assert.ok(Date.now() < deadline, 'the job runs');
          await sleep(100);
        }
        await h.client.cancel('batch-cancel-ignored');
        await assert.rejects(handle.result());
        const tile = h.temporal.workflow.getHandle('batch-cancel-ignored/tile-E590000-N5660000');
        await assert.rejects(tile.result());
        return tile.query(tileProgress);
      });
      assert.equal(record.status, 'canceled');
      assert.equal(record.backendStatus, 'running');
      assert.match(record.error?.message ?? '', /cancel requested; the backend still reports running/);
    });

    it('replays the histories of these tiles deterministically', async () => {
      const workflowIds = ['cancel-ignored/tile-E590000-N5660000', 'batch-cancel-ignored/tile-E590000-N5660000'];
      const histories = await Promise.all(
        workflowIds.map(async (workflowId) => ({
          workflowId,
          history: await h.temporal.workflow.getHandle(workflowId).fetchHistory(),
        })),
      );
      const results = [];
      for await (const result of Worker.runReplayHistories({ workflowsPath: WORKFLOWS_PATH }, histories))
        results.push(result);
      assert.deepEqual(
        results.map((r) => r.error),
        [undefined, undefined],
      );
    });
  });
});

/**
 * A job that disappears from its backend (deleted by its user, cleaned up, or lost with the
 * backend's state) is an attempt that failed: the tile finishes from the results an earlier
 * download left complete in its folder, or makes a new job within `maxAttempts`, and its record
 * says what happened.
 */
import assert from 'node:assert/strict';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { SimplePlugin } from '@temporalio/plugin';
import { createActivities } from '../../activities';
import type { TileRecord } from '../../src/core/records';
import type { RunningEmulator } from '../../src/tools/emulator';
import { api, login } from '../support/emulator-api';
import { eventually } from '../support/eventually';
import { EMULATOR_USER, startHarness, type Harness } from '../support/harness';

type DownloadInput = Parameters<ReturnType<typeof createActivities>['downloadResults']>[0];

/** Deletes a job as its user would, through the backend's API. */
async function deleteJob(emulator: RunningEmulator, jobId: string): Promise<void> {
  const token = await login(emulator, EMULATOR_USER.username, EMULATOR_USER.password);
  const response = await api(emulator, `/jobs/${jobId}`, { method: 'DELETE', token });
  assert.equal(response.status, 204, response.text);
}

function jobsTitled(emulator: RunningEmulator, prefix: string) {
  return emulator.admin.jobs().filter((job) => job.title?.startsWith(prefix));
}

/** The job of these titles once it runs on the backend. */
async function runningJob(emulator: RunningEmulator, prefix: string): Promise<{ id: string }> {
  const running = () => jobsTitled(emulator, prefix).find((job) => job.status === 'running');
  await eventually(async () => running() !== undefined, `a job titled ${prefix}… runs`);
  return running()!;
}

async function tileRecord(h: Harness, batchId: string, tileId: string): Promise<TileRecord> {
  return h.temporal.workflow.getHandle(`${batchId}/tile-${tileId}`).result();
}

const TILE = 'E590000-N5660000';

describe('a job that disappears from its backend', () => {
  let h: Harness;
  /**
   * Batches whose first download is lost as a killed worker loses it: the files are written,
   * then the job is deleted on the backend and the attempt fails. `keepFiles: false` also
   * removes the result GeoTIFF first, so what is left in the tile's folder is incomplete.
   */
  const lostDownloads = new Map<string, { keepFiles: boolean; done?: boolean }>();

  before(async () => {
    // Jobs that run for a few seconds: long enough to be deleted while they run.
    h = await startHarness({ jobDurations: { queuedMs: 50, runningMs: 3_000 }, maxRunningJobsPerUser: 20 });
    const real = createActivities({
      credentials: { emulator: { url: h.emulator.url, auth: { type: 'basic', ...EMULATOR_USER } } },
    });
    const downloadResults = async (input: DownloadInput) => {
      const lost = lostDownloads.get(input.batchId);
      if (!lost || lost.done) return real.downloadResults(input);
      lost.done = true;
      const downloaded = await real.downloadResults(input);
      if (!lost.keepFiles) {
        const tif = downloaded.files.find((file) => file.endsWith('.tif'));
        assert.ok(tif, downloaded.files.join(', '));
        await rm(join(downloaded.tileDir, tif));
      }
      await deleteJob(h.emulator, input.jobId);
      throw ApplicationFailure.retryable(
        'the worker that downloaded the results died before it could report them',
        'WorkerLost',
      );
    };
    await h.startWorker({ plugins: [new SimplePlugin({ name: 'lost-downloads', activities: { downloadResults } })] });
  });
  after(async () => h?.teardown());

  it('makes a new job for a tile whose job is deleted while it runs, and says so in its record', async () => {
    const { handle } = await h.client.start(h.spec({ batchId: 'deleted-running', cols: 1, rows: 1, maxAttempts: 2 }));
    const first = await runningJob(h.emulator, 'deleted-running/');
    await deleteJob(h.emulator, first.id);

    const summary = await handle.result();
    assert.equal(summary.counts.finished, 1, JSON.stringify(summary));
    const record = await tileRecord(h, 'deleted-running', TILE);
    assert.equal(record.status, 'finished');
    assert.equal(record.attempts, 2);
    assert.equal(record.error, undefined);
    assert.equal(record.notes?.length, 1, JSON.stringify(record.notes));
    assert.match(
      record.notes[0]!,
      new RegExp(`job ${first.id} disappeared from backend "emulator"; a new job was made`),
    );
    assert.deepEqual(
      jobsTitled(h.emulator, 'deleted-running/').map((job) => [job.title, job.status]),
      [[`deleted-running/${TILE} attempt 2`, 'finished']],
    );
  });

  it('ends the tile with JobNotFound when the vanished job was its last attempt', async () => {
    const { handle } = await h.client.start(h.spec({ batchId: 'deleted-last', cols: 1, rows: 1, maxAttempts: 1 }));
    const job = await runningJob(h.emulator, 'deleted-last/');
    await deleteJob(h.emulator, job.id);

    const summary = await handle.result();
    assert.equal(summary.counts.error, 1, JSON.stringify(summary));
    const record = await tileRecord(h, 'deleted-last', TILE);
    assert.equal(record.error?.code, 'JobNotFound');
    assert.equal(record.attempts, 1);
    assert.match(record.notes?.[0] ?? '', /disappeared from backend "emulator"; the tile had no attempts left/);
    assert.equal(jobsTitled(h.emulator, 'deleted-last/').length, 0, 'no second job');
  });

  it('finishes a tile from its files when its job disappears after they were all downloaded', async () => {
    lostDownloads.set('lost-report', { keepFiles: true });
    const { handle } = await h.client.start(h.spec({ batchId: 'lost-report', cols: 1, rows: 1, maxAttempts: 2 }));
    const summary = await handle.result();
    assert.equal(lostDownloads.get('lost-report')?.done, true, 'the first download was lost');
    assert.equal(summary.counts.finished, 1, JSON.stringify(summary));

    const record = await tileRecord(h, 'lost-report', TILE);
    assert.equal(record.status, 'finished');
    assert.equal(record.attempts, 1, 'no new job');
    assert.match(
      record.notes?.[0] ?? '',
      /disappeared from backend "emulator"; its results were already complete and verified in the tile's folder/,
    );
    assert.ok(
      record.files?.some((file) => file.endsWith('.tif')),
      String(record.files),
    );
    assert.ok(record.files?.includes('job.json'));
    const onDisk = await readdir(join(h.workDir, 'output', 'lost-report', TILE));
    for (const file of record.files ?? []) assert.ok(onDisk.includes(file), `${file} is in the tile's folder`);
    assert.equal(
      h.emulator.admin.stats().jobs.createdByTitle[`lost-report/${TILE} attempt 2`],
      undefined,
      'no second job was made',
    );
  });

  it('makes a new job when the files a vanished job left are incomplete', async () => {
    lostDownloads.set('lost-half', { keepFiles: false });
    const { handle } = await h.client.start(h.spec({ batchId: 'lost-half', cols: 1, rows: 1, maxAttempts: 2 }));
    const summary = await handle.result();
    assert.equal(lostDownloads.get('lost-half')?.done, true, 'the first download was lost');
    assert.equal(summary.counts.finished, 1, JSON.stringify(summary));

    const record = await tileRecord(h, 'lost-half', TILE);
    assert.equal(record.attempts, 2);
    assert.match(record.notes?.[0] ?? '', /a new job was made/);
    assert.ok(
      record.files?.some((file) => file.endsWith('.tif')),
      String(record.files),
    );
    const onDisk = await readdir(join(h.workDir, 'output', 'lost-half', TILE));
    assert.ok(
      onDisk.some((file) => file.endsWith('.tif')),
      onDisk.join(', '),
    );
    assert.deepEqual(
      jobsTitled(h.emulator, 'lost-half/').map((job) => [job.title, job.status]),
      [[`lost-half/${TILE} attempt 2`, 'finished']],
    );
  });
});

/**
 * Listing a user's jobs when the user has many: the emulator's store answers a page and its
 * counts without walking every job, and a job is found again by its title in as few listing
 * pages as the backend's order allows.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';

import { OpenEO, type Connection } from '@openeo/js-client';

import { unstartedTwins } from '../../activities/duplicate-jobs';
import { createOrRecover, jobsTitled } from '../../activities/job-requests';
import type { RunningEmulator } from '../../src/tools/emulator';
import { seededRandom } from '../../src/tools/emulator/failure';
import {
  ACTIVE_STATUSES,
  JobStore,
  type JobRecord,
  type JobStatus,
  type ListingOrder,
} from '../../src/tools/emulator/jobs';
import { JobLog } from '../../src/tools/emulator/logs';
import type { ProcessGraph } from '../../src/tools/emulator/process-graph';
import { withEmulator } from '../support/emulator-api';

const OWNERS = ['ana', 'ben'];
const STATUSES: JobStatus[] = ['created', 'queued', 'running', 'finished', 'error', 'canceled'];

function newJob(store: JobStore, owner: string, title: string): JobRecord {
  return store.create({
    owner,
    title,
    description: null,
    process: {},
    graph: {} as ProcessGraph,
    plan: null,
    budget: null,
    logLevel: 'info',
    options: {},
    area: null,
    projected: null,
    temporalExtent: null,
    log: new JobLog('info'),
    fate: {},
  });
}

/** The page a full scan gives: what the store's index must agree with. */
function scannedPage(
  jobs: JobRecord[],
  owner: string,
  order: ListingOrder,
  after: number | undefined,
  limit: number | undefined,
) {
  const own = jobs
    .filter((job) => job.owner === owner)
    .sort((a, b) => (order === 'newest-first' ? b.seq - a.seq : a.seq - b.seq));
  const rest =
    after === undefined ? own : own.filter((job) => (order === 'newest-first' ? job.seq < after : job.seq > after));
  const page = limit === undefined ? rest : rest.slice(0, limit);
  return { ids: page.map((job) => job.id), more: page.length < rest.length };
}

function scannedCounts(jobs: JobRecord[], owner: string) {
  const own = jobs.filter((job) => job.owner === owner);
  return {
    active: own.filter((job) => ACTIVE_STATUSES.has(job.status)).length,
    queued: own.filter((job) => job.status === 'queued').length,
    running: own.filter((job) => job.status === 'running').length,
    runningTotal: jobs.filter((job) => job.status === 'running').length,
  };
}

function assertAgreesWithScan(store: JobStore, jobs: JobRecord[], random: () => number): void {
  for (const owner of OWNERS) {
    assert.deepEqual(store.concurrency(owner), scannedCounts(jobs, owner), `counts of ${owner}`);
    for (const order of ['newest-first', 'oldest-first'] as const) {
      const cursors = [undefined, 0, ...jobs.slice(0, 5).map((job) => job.seq), Math.floor(random() * 400)];
      for (const after of cursors) {
        for (const limit of [undefined, 1, 7, 1000]) {
          const page = store.page(owner, order, after, limit);
          assert.deepEqual(
            { ids: page.jobs.map((job) => job.id), more: page.more },
            scannedPage(jobs, owner, order, after, limit),
            `${owner} ${order} after ${after} limit ${limit}`,
          );
        }
      }
    }
  }
}

describe('job listing: the emulator store', () => {
  it('pages and counts as a full scan does, through creations, status changes, deletions and a restore', () => {
    const random = seededRandom(11);
    const store = new JobStore();
    const jobs: JobRecord[] = [];
    for (let step = 0; step < 400; step++) {
      const roll = random();
      if (roll < 0.5 || jobs.length === 0) jobs.push(newJob(store, OWNERS[Math.floor(random() * 2)], `job-${step}`));
      else if (roll < 0.85)
        store.setStatus(jobs[Math.floor(random() * jobs.length)], STATUSES[Math.floor(random() * STATUSES.length)]);
      else {
        const [gone] = jobs.splice(Math.floor(random() * jobs.length), 1);
        store.delete(gone);
        // A second delete of the same job changes nothing.
        store.delete(gone);
      }
      if (step % 50 === 0) assertAgreesWithScan(store, jobs, random);
    }
    assertAgreesWithScan(store, jobs, random);

    // A state file's jobs may come in any order; the restored store still lists by creation.
    const restored = new JobStore();
    const shuffled = [...jobs].sort(() => random() - 0.5);
    for (const job of shuffled) restored.restore(job);
    restored.restore(shuffled[0]);
    assertAgreesWithScan(restored, jobs, random);
    const next = newJob(restored, 'ana', 'after-restore');
    assert.ok(
      jobs.every((job) => job.seq < next.seq),
      'a job created after a restore is numbered after every restored job',
    );
  });
});

async function connect(emulator: RunningEmulator): Promise<Connection> {
  const connection = await OpenEO.connect(emulator.url);
  await connection.authenticateBasic('demo', 'demo-password');
  return connection;
}

/** `GET /jobs` requests the emulator answered so far. */
function listings(emulator: RunningEmulator): number {
  return Object.values(emulator.admin.stats().requests.byRoute['GET /openeo/1.2/jobs'] ?? {}).reduce(
    (sum, n) => sum + n,
    0,
  );
}

const PROCESS = {
  load: {
    process_id: 'load_collection',
    arguments: { id: 'SENTINEL2_L2A', spatial_extent: null, temporal_extent: null },
    result: true,
  },
};

/**
 * 500 jobs titled `t-0` … `t-499`, with a pause after `t-399`; answers the time in that pause
 * (every job from `t-400` on was created after it).
 */
async function createJobs(emulator: RunningEmulator): Promise<number> {
  const connection = await connect(emulator);
  let between = 0;
  for (let i = 0; i < 500; i++) {
    if (i === 400) {
      await sleep(20);
      between = Date.now();
      await sleep(20);
    }
    await createOrRecover(connection, {
      backend: { name: 'emulator', url: emulator.url },
      jobTitle: `t-${i}`,
      processGraph: PROCESS,
    });
  }
  return between;
}

describe('job listing: a job found again by its title', () => {
  it('reads one page of a newest-first listing when the lookup is bounded by creation time, and every page when not', async () => {
    await withEmulator({}, async (emulator) => {
      const between = await createJobs(emulator);
      const connection = await connect(emulator);

      let before = listings(emulator);
      const recent = await jobsTitled(connection, 't-440', between);
      assert.equal(recent.length, 1);
      assert.equal(
        listings(emulator) - before,
        1,
        'the first page (t-499 … t-300) already reaches a job older than the bound',
      );

      before = listings(emulator);
      const old = await jobsTitled(connection, 't-3');
      assert.equal(old.length, 1);
      assert.equal(listings(emulator) - before, 3, 'an unbounded lookup reads all 500 jobs, 200 a page');
    });
  });

  it('reads a listing that is not newest first to its end, so a bounded lookup still finds the newest job', async () => {
    await withEmulator({ listingOrder: 'oldest-first' }, async (emulator) => {
      const between = await createJobs(emulator);
      const connection = await connect(emulator);
      const before = listings(emulator);
      const newest = await jobsTitled(connection, 't-499', between);
      assert.equal(newest.length, 1);
      assert.equal(listings(emulator) - before, 3);
    });
  });

  it('finds every job of a title, oldest first, so a recovered create keeps the first', async () => {
    await withEmulator({}, async (emulator) => {
      const connection = await connect(emulator);
      const backend = { name: 'emulator', url: emulator.url };
      const since = Date.now();
      const first = await createOrRecover(connection, { backend, jobTitle: 'twice', processGraph: PROCESS });
      await sleep(5);
      await createOrRecover(connection, { backend, jobTitle: 'other', processGraph: PROCESS });
      // A retry whose earlier try's job exists finds it instead of creating another.
      const again = await createOrRecover(
        connection,
        { backend, jobTitle: 'twice', processGraph: PROCESS },
        { firstTry: since },
      );
      assert.equal(again.id, first.id);
      assert.deepEqual(
        (await jobsTitled(connection, 'twice', since)).map((job) => job.id),
        [first.id],
      );
      assert.equal(emulator.admin.jobs().length, 2);
    });
  });
});

describe('job listing: never-started twins at a batch end', () => {
  const job = (id: string, title: string | null, status: JobStatus, created: string) => ({
    id,
    title,
    status,
    created,
  });

  it('picks the never-started jobs after the oldest of each of the batch titles that has several', () => {
    const jobs = [
      job('kept', 'b1/T1 attempt 1', 'finished', '2026-01-01T10:00:00Z'),
      job('late', 'b1/T1 attempt 1', 'created', '2026-01-01T10:00:05Z'),
      // A job factory's own title comes first.
      job('factory-kept', 'Composite T2 — b1/T2 attempt 1', 'created', '2026-01-01T10:00:01Z'),
      job('factory-late', 'Composite T2 — b1/T2 attempt 1', 'created', '2026-01-01T10:00:09Z'),
      // Started twins are never deleted, whatever their age.
      job('started-twin', 'b1/T3 attempt 2', 'finished', '2026-01-01T10:00:01Z'),
      job('started-too', 'b1/T3 attempt 2', 'error', '2026-01-01T10:00:02Z'),
      // One job of a title, another batch's twins, and titles that only look alike.
      job('alone', 'b1/T4 attempt 1', 'created', '2026-01-01T10:00:00Z'),
      job('other-batch', 'b2/T1 attempt 1', 'created', '2026-01-01T10:00:00Z'),
      job('other-batch-late', 'b2/T1 attempt 1', 'created', '2026-01-01T10:00:03Z'),
      job('users-own', 'b1/T1 notes', 'created', '2026-01-01T10:00:00Z'),
      job('users-own-2', 'b1/T1 notes', 'created', '2026-01-01T10:00:01Z'),
      job('untitled', null, 'created', '2026-01-01T10:00:00Z'),
    ];
    assert.deepEqual(
      unstartedTwins(jobs, 'b1')
        .map((j) => j.id)
        .sort(),
      ['factory-late', 'late'],
    );
  });

  it('of twins created in the same instant, keeps the smaller id in either listing order', () => {
    const a = job('j-0a', 'b1/T1 attempt 1', 'created', '2026-01-01T10:00:00.000Z');
    const b = job('j-0b', 'b1/T1 attempt 1', 'created', '2026-01-01T10:00:00.000Z');
    for (const listing of [
      [a, b],
      [b, a],
    ])
      assert.deepEqual(
        unstartedTwins(listing, 'b1').map((j) => j.id),
        ['j-0b'],
      );
  });

  it('orders creation times as instants, not as text', () => {
    // A backend that writes whole seconds without fractions: 10:00:00Z is before 10:00:00.500Z.
    const whole = job('whole-second', 'b1/T1 attempt 1', 'created', '2026-01-01T10:00:00Z');
    const later = job('later', 'b1/T1 attempt 1', 'created', '2026-01-01T10:00:00.500Z');
    for (const listing of [
      [whole, later],
      [later, whole],
    ])
      assert.deepEqual(
        unstartedTwins(listing, 'b1').map((j) => j.id),
        ['later'],
      );
  });
});

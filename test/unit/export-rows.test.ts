/**
 * Tiles as rows of the Python job manager's job database: its columns and value formats, its
 * status vocabulary derived from ours and the backend's, costs without floating-point noise.
 * Pure: no server.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TileRow } from '../../src/core/records';
import {
  JOB_DATABASE_COLUMNS,
  jobDatabaseRow,
  jobManagerStatus,
  rfc3339Seconds,
  tidyNumber,
  usageText,
} from '../../src/core/job-database/job-database';
import type { OpenEOJobStatus, TileStatus } from '../../src/core/records';

const OUTLINE = {
  type: 'Polygon' as const,
  coordinates: [
    [
      [4.1, 51.1],
      [4.2, 51.1],
      [4.2, 51.2],
      [4.1, 51.2],
      [4.1, 51.1],
    ],
  ],
};

const FINISHED: TileRow = {
  batchId: 'b',
  tileId: 'E590000-N5660000',
  status: 'finished',
  backend: 'cdse',
  openeoJobId: 'cdse-j-1',
  backendStatus: 'finished',
  attempts: 2,
  createdAt: '2024-11-05T14:22:06.789Z',
  runningAt: '2024-11-05T14:23:52.001Z',
  finishedAt: '2024-11-05T14:26:00.000Z',
  // Two jobs' credits summed in floating point.
  costs: 4.4 + 10.000000000000004,
  usage: {
    cpu: { value: 225, unit: 'cpu-seconds' },
    memory: { value: 1137013.0000000002, unit: 'mb-seconds' },
    duration: { value: 154, unit: 'seconds' },
  },
  outputDir: '/out/b/E590000-N5660000',
  files: ['openEO.tif', 'job.json'],
  geometry: OUTLINE,
};

describe('job-database rows', () => {
  it("has the job manager's columns first, in its names, then ours", () => {
    const names = JOB_DATABASE_COLUMNS.map((c) => c.name);
    assert.deepEqual(names.slice(0, 9), [
      'id',
      'backend_name',
      'status',
      'start_time',
      'running_start_time',
      'cpu',
      'memory',
      'duration',
      'costs',
    ]);
    for (const ours of [
      'tile_id',
      'backend_status',
      'attempts',
      'error_code',
      'error_message',
      'output_dir',
      'files',
      'notes',
      'geometry',
    ])
      assert.ok(names.includes(ours as never), ours);
    assert.deepEqual(Object.keys(jobDatabaseRow(FINISHED)).sort(), [...names].sort(), 'a row has exactly the columns');
  });

  it('maps a finished tile onto the columns in the job manager’s formats', () => {
    const row = jobDatabaseRow(FINISHED);
    assert.equal(row.id, 'cdse-j-1');
    assert.equal(row.backend_name, 'cdse');
    assert.equal(row.status, 'finished');
    assert.equal(row.start_time, '2024-11-05T14:22:06Z');
    assert.equal(row.running_start_time, '2024-11-05T14:23:52Z');
    assert.equal(row.cpu, '225 cpu-seconds');
    assert.equal(row.memory, '1137013 mb-seconds');
    assert.equal(row.duration, '154 seconds');
    assert.equal(row.costs, 14.4);
    assert.equal(row.tile_id, 'E590000-N5660000');
    assert.equal(row.backend_status, 'finished');
    assert.equal(row.attempts, 2);
    assert.equal(row.error_code, null);
    assert.deepEqual(row.files, ['openEO.tif', 'job.json']);
    assert.deepEqual(row.unchecked_checksums, []);
    assert.deepEqual(row.geometry, OUTLINE);
  });

  it('names the files whose checksum could not be checked, with the reason', () => {
    const row = jobDatabaseRow({
      ...FINISHED,
      uncheckedChecksums: [{ file: 'openEO.tif', reason: 'file:checksum "unknown" is not a multihash in hex' }],
    });
    assert.deepEqual(row.unchecked_checksums, ['openEO.tif: file:checksum "unknown" is not a multihash in hex']);
  });

  it('gives a not-started tile nulls, no files, and its outline', () => {
    const row = jobDatabaseRow({ batchId: 'b', tileId: 't', status: 'not_started', attempts: 0, geometry: OUTLINE });
    assert.equal(row.status, 'not_started');
    for (const column of [
      'id',
      'backend_name',
      'start_time',
      'running_start_time',
      'cpu',
      'memory',
      'duration',
      'costs',
      'backend_status',
      'error_code',
      'error_message',
      'output_dir',
    ] as const) {
      assert.equal(row[column], null, column);
    }
    assert.deepEqual(row.files, []);
    assert.deepEqual(row.geometry, OUTLINE);
  });

  it("carries a failed tile's error code and message", () => {
    const row = jobDatabaseRow({
      ...FINISHED,
      status: 'error',
      backendStatus: 'error',
      error: { code: 'TileBroken', message: 'band B04, "quoted", missing' },
    });
    assert.equal(row.status, 'error');
    assert.equal(row.error_code, 'TileBroken');
    assert.equal(row.error_message, 'band B04, "quoted", missing');
  });

  it("derives the job manager's status from ours and the backend's", () => {
    const cases: [TileStatus, OpenEOJobStatus | undefined, boolean, string][] = [
      ['not_started', undefined, false, 'not_started'],
      ['running', undefined, false, 'not_started'],
      ['running', 'created', true, 'created'],
      ['running', 'queued', true, 'queued'],
      ['running', 'running', true, 'running'],
      // The job ended but the tile still downloads, saves logs or resubmits: still active.
      ['running', 'finished', true, 'running'],
      ['running', 'error', true, 'running'],
      ['running', 'canceled', true, 'running'],
      ['finished', 'finished', true, 'finished'],
      ['error', undefined, false, 'start_failed'],
      ['error', 'created', true, 'start_failed'],
      ['error', 'error', true, 'error'],
      ['error', 'running', true, 'error'],
      // Results that could not be downloaded: the tile failed, whatever the job did.
      ['error', 'finished', true, 'error'],
      ['canceled', 'canceled', true, 'canceled'],
      ['canceled', undefined, false, 'canceled'],
      ['skipped', undefined, false, 'skipped'],
    ];
    for (const [status, backendStatus, hasJob, expected] of cases) {
      const record = { status, ...(backendStatus ? { backendStatus } : {}), ...(hasJob ? { openeoJobId: 'j-1' } : {}) };
      assert.equal(jobManagerStatus(record), expected, JSON.stringify(record));
    }
  });

  it('writes usage as "<value> <unit>" and leaves out what is missing or not a number', () => {
    assert.equal(usageText({ value: 12.5, unit: 'cpu-seconds' }), '12.5 cpu-seconds');
    assert.equal(usageText({ value: 0.30000000000000004, unit: 'seconds' }), '0.3 seconds');
    assert.equal(usageText(undefined), null);
    assert.equal(usageText({ value: Number.NaN, unit: 'seconds' }), null);
    assert.equal(usageText({ value: 'x' as unknown as number, unit: 'seconds' }), null);
  });

  it('tidies floating-point sums and keeps reported digits', () => {
    assert.equal(tidyNumber(0.1 + 0.2), 0.3);
    assert.equal(tidyNumber(14.400000000000004), 14.4);
    assert.equal(tidyNumber(1234.5678), 1234.5678);
    assert.equal(tidyNumber(0.000123), 0.000123);
    assert.equal(jobDatabaseRow({ ...FINISHED, costs: 0 }).costs, 0);
  });

  it('formats times as RFC 3339 UTC to the second, and drops what is not a time', () => {
    assert.equal(rfc3339Seconds('2024-11-05T14:22:06.999Z'), '2024-11-05T14:22:06Z');
    assert.equal(rfc3339Seconds('2024-11-05T16:22:06+02:00'), '2024-11-05T14:22:06Z');
    assert.equal(rfc3339Seconds('yesterday'), null);
    assert.equal(rfc3339Seconds(undefined), null);
  });
});

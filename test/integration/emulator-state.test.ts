/**
 * Restarting the emulator with a state file: jobs, logs, tokens, signed
 * links and fault counters survive; queued and running jobs pick up where
 * they were, with time having passed while the emulator was down. One
 * ManualClock spans both runs, so every timing is exact.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { ManualClock, startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/tools/emulator';
import { api, login } from '../support/emulator-api';

// ---------------------------------------------------------------- helpers

const PROCESS = {
  process_graph: {
    load: {
      process_id: 'load_collection',
      arguments: { id: 'SENTINEL2_L2A', spatial_extent: { west: 4.3, south: 51.1, east: 4.4, north: 51.2 } },
    },
    save: { process_id: 'save_result', arguments: { data: { from_node: 'load' }, format: 'GTiff' }, result: true },
  },
};

async function createAndStart(emulator: RunningEmulator, token: string, title: string, start = true): Promise<string> {
  const created = await api(emulator, '/jobs', { method: 'POST', token, body: { title, process: PROCESS } });
  assert.equal(created.status, 201, created.text);
  const id = created.headers.get('openeo-identifier') as string;
  if (start) assert.equal((await api(emulator, `/jobs/${id}/results`, { method: 'POST', token })).status, 202);
  return id;
}

function status(emulator: RunningEmulator, id: string): string | undefined {
  return emulator.admin.job(id)?.status;
}

// ---------------------------------------------------------------- tests

describe('emulator state file', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'emulator-state-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('keeps jobs, logs, tokens and links across a restart, and resumes queued and running jobs', async () => {
    const clock = new ManualClock();
    const stateFile = join(dir, 'restart.json');
    const options: EmulatorOptions = {
      clock,
      stateFile,
      maxRunningJobsPerUser: 1,
      jobDurations: { queuedMs: 0, runningMs: 1000 },
    };
    const first = await startEmulator(options);
    const token = await login(first);
    const done = await createAndStart(first, token, 'done');
    clock.advance(1000);
    const running = await createAndStart(first, token, 'running');
    const queued = await createAndStart(first, token, 'queued');
    const idle = await createAndStart(first, token, 'idle', false);
    clock.advance(400);
    assert.deepEqual(
      [done, running, queued, idle].map((id) => status(first, id)),
      ['finished', 'running', 'queued', 'created'],
    );
    const results = (await api(first, `/jobs/${done}/results`, { token })).body;
    const asset = Object.values<{ href: string; 'file:checksum': string }>(results.assets)[0];
    const logsBefore = (await api(first, `/jobs/${done}/logs`, { token })).body.logs;
    await first.close();

    const saved = JSON.parse(await readFile(stateFile, 'utf8'));
    assert.equal(saved.format, 'openeo-emulator-state');
    assert.equal(saved.jobs.length, 4);
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.startsWith('restart.json')),
      ['restart.json'],
      'no temporary files left',
    );

    // Same port, so the signed link handed out before the restart still points here.
    const second = await startEmulator({ ...options, port: first.port });
    try {
      assert.equal((await api(second, '/me', { token })).body?.user_id, 'demo', 'the token survived');
      const job = (await api(second, `/jobs/${running}`, { token })).body;
      assert.deepEqual([job.status, job.progress], ['running', 40], 'the running job continues from its elapsed time');
      assert.deepEqual(
        [queued, idle].map((id) => status(second, id)),
        ['queued', 'created'],
      );

      const bytes = Buffer.from(await (await fetch(asset.href)).arrayBuffer());
      assert.equal(
        `1220${createHash('sha256').update(bytes).digest('hex')}`,
        asset['file:checksum'],
        'same file, same link',
      );
      const logsAfter = (await api(second, `/jobs/${done}/logs`, { token })).body.logs;
      assert.deepEqual(logsAfter, logsBefore);

      clock.advance(600);
      assert.deepEqual(
        [running, queued].map((id) => status(second, id)),
        ['finished', 'running'],
        'the queue moves on',
      );
      clock.advance(1000);
      assert.equal(status(second, queued), 'finished');
      const newer = await createAndStart(second, token, 'after restart', false);
      const listed = (await api(second, '/jobs', { token })).body.jobs.map((j: { id: string }) => j.id);
      assert.deepEqual(listed, [newer, idle, queued, running, done], 'creation order continues');
      const entries = (await api(second, `/jobs/${running}/logs`, { token })).body.logs;
      assert.deepEqual(
        entries.map((e: { id: string }) => Number(e.id)),
        entries.map((_: unknown, i: number) => i + 1),
        'log ids keep counting',
      );
    } finally {
      await second.close();
    }
  });

  it('ends a job whose run would have finished while the emulator was down, with its nominal usage', async () => {
    const clock = new ManualClock();
    const stateFile = join(dir, 'downtime.json');
    const options: EmulatorOptions = { clock, stateFile, jobDurations: { queuedMs: 0, runningMs: 1000 } };
    const first = await startEmulator(options);
    const token = await login(first);
    const id = await createAndStart(first, token, 'long downtime');
    clock.advance(300);
    await first.close();
    clock.advance(60_000);
    const second = await startEmulator(options);
    try {
      const job = (await api(second, `/jobs/${id}`, { token })).body;
      assert.equal(job.status, 'finished');
      assert.equal(job.usage.duration.value, 1, 'a run lasts runningMs, not the downtime');
    } finally {
      await second.close();
    }
  });

  it('continues fault counters of the same configuration: fail-first and every-Nth', async () => {
    const stateFile = join(dir, 'faults.json');
    const options: EmulatorOptions = {
      stateFile,
      jobDurations: { queuedMs: 0, runningMs: 0 },
      faults: {
        routes: [{ route: 'GET /collections', everyNth: 3, fault: { type: 'status', status: 503 } }],
        jobs: { rules: [{ titleContains: 'tile-7', failFirst: 1 }] },
      },
    };
    const first = await startEmulator(options);
    const token = await login(first);
    const failed = await createAndStart(first, token, 'tile-7 attempt 1');
    assert.equal(status(first, failed), 'error');
    assert.deepEqual(
      [(await api(first, '/collections')).status, (await api(first, '/collections')).status],
      [200, 200],
    );
    await first.close();

    const second = await startEmulator(options);
    try {
      assert.equal((await api(second, '/collections')).status, 503, 'the third call overall');
      const retried = await createAndStart(second, token, 'tile-7 attempt 2');
      assert.equal(status(second, retried), 'finished', 'the first matching job was already counted');
    } finally {
      await second.close();
    }
  });

  it('refuses files that are not its state, rather than overwriting them', async () => {
    const foreign = join(dir, 'foreign.json');
    await writeFile(foreign, '{"hello": "world"}');
    await assert.rejects(startEmulator({ stateFile: foreign }), /not an openEO emulator state file/);
    const broken = join(dir, 'broken.json');
    await writeFile(broken, '{"format": ');
    await assert.rejects(startEmulator({ stateFile: broken }), /not valid JSON/);
    assert.equal(await readFile(foreign, 'utf8'), '{"hello": "world"}');
    await assert.rejects(
      startEmulator({ stateFile: join(dir, 'missing-dir', 'state.json') }),
      /cannot write the emulator state file/,
    );
  });

  it('waits the save delay before writing a change, and writes at close in any case', async () => {
    const stateFile = join(dir, 'delayed.json');
    const emulator = await startEmulator({ stateFile, stateSaveDelayMs: 3_600_000 });
    const token = await login(emulator);
    const id = await createAndStart(emulator, token, 'kept for the close', false);
    // Well past the default delay of 50 ms: with the delay ignored, the job would be written by now.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const onDisk = JSON.parse(await readFile(stateFile, 'utf8'));
    assert.deepEqual(onDisk.jobs, [], 'only the start-up state is on disk');
    await emulator.close();
    const atClose = JSON.parse(await readFile(stateFile, 'utf8'));
    assert.deepEqual(
      atClose.jobs.map((j: { id: string }) => j.id),
      [id],
    );
    await assert.rejects(startEmulator({ stateSaveDelayMs: -1 }), /stateSaveDelayMs must be a non-negative number/);
  });
});

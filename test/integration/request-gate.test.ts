/**
 * The request gate's plumbing, against the emulator over HTTP: every js-client request and every
 * download of a gated backend waits for a lease and gives it back; other backends and hosts pass
 * untouched. The gate here is an in-process one (the same interface the quota workflow's client
 * implements), so the test needs no Temporal server.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Job } from '@openeo/js-client';
import { downloadAsset } from '../../activities/download';
import { OpenEOConnections } from '../../src/core/openeo/connections';
import {
  runWithRequestGates,
  type GatedRequest,
  type RequestGate,
  type RequestLease,
} from '../../src/core/openeo/request-gate';
import { startEmulator, type RunningEmulator } from '../../src/tools/emulator';

/** Hands out `limit` leases at a time, first come first served, and remembers what it was asked. */
class LocalGate implements RequestGate {
  readonly asked: GatedRequest[] = [];
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}

  async acquire(request: GatedRequest): Promise<RequestLease> {
    this.asked.push(request);
    while (this.inFlight >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.inFlight += 1;
    return {
      release: async () => {
        this.inFlight -= 1;
        this.waiting.shift()?.();
      },
    };
  }
}

const USER = { username: 'gate', password: 'gate-password' };
const PROCESS = { process_graph: { add: { process_id: 'add', arguments: { x: 1, y: 2 }, result: true } } };

describe('request gate', () => {
  let emulator: RunningEmulator;
  let connections: OpenEOConnections;
  let backend: { name: string; url: string };
  before(async () => {
    emulator = await startEmulator({
      users: [USER],
      maxConcurrentRequestsPerUser: 1,
      jobDurations: { queuedMs: 0, runningMs: 0 },
      // Slow answers overlap, so five at once would meet the limit of one.
      faults: { routes: [{ route: 'GET /jobs/{job_id}', fault: { type: 'latency', ms: 150 } }] },
    });
    backend = { name: 'gated', url: emulator.url };
    connections = new OpenEOConnections({ gated: { url: emulator.url, auth: { type: 'basic', ...USER } } });
  });
  after(async () => emulator?.close());

  it('keeps the js-client within the quota when gated, and meets 429s when not', async () => {
    const connection = await connections.get(backend);
    const job = await connection.createJob(PROCESS, 'gated job');
    const gate = new LocalGate(1);
    const gated = await runWithRequestGates([{ url: emulator.url, gate }], () =>
      Promise.allSettled([1, 2, 3, 4, 5].map(() => connection.getJob(job.id))),
    );
    assert.deepEqual(
      gated.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled'],
    );
    assert.equal(gate.asked.length, 5);
    assert.equal(emulator.admin.stats().quotas.refused.total, 0);

    const ungated = await Promise.allSettled([1, 2, 3, 4, 5].map(() => connection.getJob(job.id)));
    assert.ok(
      ungated.some((r) => r.status === 'rejected'),
      'without the gate the emulator refuses some',
    );
    assert.ok(emulator.admin.stats().quotas.refused.concurrentRequests > 0);
  });

  it('asks for a start lease for a job start, and for a transfer lease for a download from the backend', async () => {
    const connection = await connections.get(backend);
    const job = await connection.createJob(PROCESS, 'gated start');
    const gate = new LocalGate(1);
    const dir = await mkdtemp(join(tmpdir(), 'openeo-gate-'));
    try {
      await runWithRequestGates([{ url: emulator.url, gate }], async () => {
        await new Job(connection, job.id).startJob();
        let described = await connection.getJob(job.id);
        for (let i = 0; i < 100 && described.status !== 'finished'; i++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          described = await connection.getJob(job.id);
        }
        const results = (await described.getResultsAsStac()) as { assets?: Record<string, { href: string }> };
        const [asset] = Object.values(results.assets ?? {});
        assert.ok(asset, 'the job has a result file');
        await downloadAsset(asset.href, join(dir, 'result.tif'), {
          headers: await connections.authHeadersFor(backend, asset.href),
          idleTimeoutMs: 10_000,
        });
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    assert.equal(gate.asked.filter((r) => r.kind === 'start').length, 1);
    assert.equal(gate.asked.filter((r) => r.transfer).length, 1);
  });

  it('leaves requests to other backends alone', async () => {
    const connection = await connections.get(backend);
    const gate = new LocalGate(1);
    await runWithRequestGates([{ url: 'http://127.0.0.1:9/elsewhere', gate }], () => connection.listJobs());
    assert.equal(gate.asked.length, 0);
  });
});

/**
 * Fault injection, mode by mode, over real HTTP: status codes, Retry-After,
 * latency, hangs, resets, truncated bodies, resets in the middle of an
 * asset download, selection by probability (seeded) and by call number, the
 * outage window, job faults, the admin API and the CLI flags. Unit tests of
 * the configuration parser and the rule selector come first.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';

import { OpenEO } from '@openeo/js-client';

import {
  emulatorOptionsFromFlags,
  FaultConfigError,
  ManualClock,
  parseFaultConfig,
  startEmulator,
  type FaultConfig,
  type RunningEmulator,
} from '../../src/tools/emulator';
import { compileRoutePattern, RouteFaultSelector } from '../../src/tools/emulator/faults/route-rules';
import { api, assertApiError, login, withEmulator } from '../support/emulator-api';

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

async function createJob(emulator: RunningEmulator, token: string, title: string): Promise<string> {
  const response = await api(emulator, '/jobs', { method: 'POST', token, body: { title, process: PROCESS } });
  assert.equal(response.status, 201, response.text);
  return response.headers.get('openeo-identifier') as string;
}

/** Status codes of `n` sequential GET requests to `path`. */
async function statuses(emulator: RunningEmulator, path: string, n: number): Promise<number[]> {
  const seen: number[] = [];
  for (let i = 0; i < n; i++) seen.push((await api(emulator, path)).status);
  return seen;
}

const INSTANT = { queuedMs: 0, runningMs: 0 };

// ---------------------------------------------------------------- configuration and selection

describe('emulator faults: configuration', () => {
  it('names every problem of an invalid configuration with its path', () => {
    assert.throws(
      () =>
        parseFaultConfig({
          routes: [{ route: 'jobs', fault: { type: 'status', status: 200 } }],
          jobs: { rules: [{ titleContains: 'x' }] },
          extra: 1,
        }),
      (error: unknown) => {
        assert.ok(error instanceof FaultConfigError);
        const text = error.problems.join('\n');
        assert.match(text, /routes\.0\.route/);
        assert.match(text, /routes\.0\.fault\.status/);
        assert.match(text, /jobs\.rules\.0: give failFirst or stuckIn/);
        assert.match(text, /extra/);
        return true;
      },
    );
    assert.deepEqual(parseFaultConfig({}), {});
  });

  it('matches route patterns relative to the API root, absolute ones and wildcards', () => {
    const key = 'GET /openeo/1.2/jobs/{job_id}';
    assert.ok(compileRoutePattern('GET /jobs/{job_id}')(key));
    assert.ok(compileRoutePattern('* /jobs/{job_id}')(key));
    assert.ok(compileRoutePattern('GET /jobs/*')(key));
    assert.ok(compileRoutePattern('GET /openeo/1.2/jobs/{job_id}')(key));
    assert.ok(compileRoutePattern('*')('unmatched'));
    assert.ok(!compileRoutePattern('POST /jobs/{job_id}')(key));
    assert.ok(!compileRoutePattern('GET /jobs')(key));
    assert.ok(compileRoutePattern('GET /.well-known/openeo')('GET /.well-known/openeo'));
  });

  it('fires the same calls for the same seed, other calls for another seed, near the configured rate', () => {
    const pattern = (seed: number) => {
      const selector = new RouteFaultSelector([{ route: '*', probability: 0.1, fault: { type: 'reset' } }], seed);
      return Array.from({ length: 1000 }, () => selector.pick('GET /openeo/1.2/') !== null);
    };
    const first = pattern(7);
    assert.deepEqual(pattern(7), first);
    assert.notDeepEqual(pattern(8), first);
    const fired = first.filter(Boolean).length;
    assert.ok(fired > 70 && fired < 130, `${fired} of 1000 at p=0.1`);
  });

  it('counts calls per rule: everyNth, onCalls, maxTimes, first firing rule wins', () => {
    const selector = new RouteFaultSelector(
      [
        { route: 'GET /a', everyNth: 3, fault: { type: 'reset' } },
        { route: 'GET /a', onCalls: [1, 3], fault: { type: 'hang' } },
        { route: 'GET /b', maxTimes: 2, fault: { type: 'latency', ms: 1 } },
      ],
      1,
    );
    const a = Array.from({ length: 6 }, () => selector.pick('GET /openeo/1.2/a')?.type ?? null);
    assert.deepEqual(a, ['hang', null, 'reset', null, null, 'reset']);
    const b = Array.from({ length: 4 }, () => selector.pick('GET /openeo/1.2/b')?.type ?? null);
    assert.deepEqual(b, ['latency', 'latency', null, null]);
    assert.deepEqual(
      selector.exportState().map((s) => [s.calls, s.fired]),
      [
        [6, 2],
        [6, 1],
        [4, 2],
      ],
    );
  });
});

// ---------------------------------------------------------------- request faults over HTTP

describe('emulator faults: request faults', () => {
  it('answers 503 InfrastructureBusy on every Nth call of a route, with an openEO error body, and counts it', async () => {
    const faults: FaultConfig = {
      routes: [{ route: 'GET /collections', everyNth: 2, fault: { type: 'status', status: 503 } }],
    };
    await withEmulator({ faults }, async (emulator) => {
      assert.deepEqual(await statuses(emulator, '/collections', 4), [200, 503, 200, 503]);
      assert.equal((await api(emulator, '/collections')).status, 200);
      assertApiError(await api(emulator, '/collections'), 503, 'InfrastructureBusy');
      assert.equal((await api(emulator, '/processes')).status, 200, 'other routes are untouched');
      const stats = emulator.admin.stats();
      assert.deepEqual(stats.faults.byType, { status: 3 });
      assert.deepEqual(stats.faults.byRoute, { 'GET /openeo/1.2/collections': { status: 3 } });
      assert.deepEqual(stats.requests.byRoute['GET /openeo/1.2/collections'], { '200': 3, '503': 3 });
    });
  });

  it('fails the same requests at the configured rate in every run with the same seed', async () => {
    const run = async (seed: number) => {
      const faults: FaultConfig = {
        seed,
        routes: [{ route: 'GET /collections', probability: 0.1, fault: { type: 'status', status: 503 } }],
      };
      const emulator = await startEmulator({ faults });
      try {
        return await statuses(emulator, '/collections', 150);
      } finally {
        await emulator.close();
      }
    };
    const first = await run(11);
    assert.deepEqual(await run(11), first);
    const failed = first.filter((s) => s === 503).length;
    assert.ok(failed >= 5 && failed <= 30, `${failed} of 150 failed at p=0.1`);
    assert.notDeepEqual(await run(12), first);
  });

  it('sends Retry-After with 429, HTML from a 502 gateway, and custom codes', async () => {
    const faults: FaultConfig = {
      routes: [
        { route: 'GET /collections', onCalls: [1], fault: { type: 'status', status: 429, retryAfterSeconds: 3 } },
        { route: 'GET /collections', onCalls: [2], fault: { type: 'status', status: 429 } },
        { route: 'GET /collections', onCalls: [3], fault: { type: 'status', status: 502 } },
        {
          route: 'GET /collections',
          onCalls: [4],
          fault: { type: 'status', status: 500, code: 'Internal', message: 'boom' },
        },
      ],
    };
    await withEmulator({ faults }, async (emulator) => {
      const limited = await api(emulator, '/collections');
      assertApiError(limited, 429, 'TooManyRequests');
      assert.equal(limited.headers.get('retry-after'), '3');
      assert.equal((await api(emulator, '/collections')).headers.get('retry-after'), '1');
      const gateway = await api(emulator, '/collections');
      assert.equal(gateway.status, 502);
      assert.match(gateway.headers.get('content-type') ?? '', /text\/html/);
      const internal = await api(emulator, '/collections');
      assertApiError(internal, 500, 'Internal');
      assert.equal(internal.body.message, 'boom');
      assert.equal((await api(emulator, '/collections')).status, 200);
    });
  });

  it('reaches the js-client as an openEO error with the injected code', async () => {
    const faults: FaultConfig = { routes: [{ route: 'GET /me', fault: { type: 'status', status: 503 } }] };
    await withEmulator({ faults }, async (emulator) => {
      const connection = await OpenEO.connect(emulator.url);
      await connection.authenticateBasic('demo', 'demo-password');
      await assert.rejects(connection.describeAccount(), (error: { code?: string; status?: number }) => {
        assert.equal(error.code, 'InfrastructureBusy');
        return true;
      });
    });
  });

  it('delays requests by the configured latency', async () => {
    await withEmulator(
      { faults: { routes: [{ route: 'GET /processes', fault: { type: 'latency', ms: 150 } }] } },
      async (emulator) => {
        const started = Date.now();
        assert.equal((await api(emulator, '/processes')).status, 200);
        assert.ok(Date.now() - started >= 140, `took ${Date.now() - started} ms`);
        const quick = Date.now();
        await api(emulator, '/collections');
        assert.ok(Date.now() - quick < 140);
      },
    );
  });

  it('hangs past the client timeout, and the emulator still closes promptly', async () => {
    const emulator = await startEmulator({ faults: { routes: [{ route: 'GET /jobs', fault: { type: 'hang' } }] } });
    const token = await login(emulator);
    await assert.rejects(api(emulator, '/jobs', { token, signal: AbortSignal.timeout(200) }), /abort|timeout/i);
    // The hung request is counted as aborted once the client gave up.
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(emulator.admin.stats().requests.byRoute['GET /openeo/1.2/jobs'].aborted, 1);
    const pending = fetch(`${emulator.apiUrl}/jobs`, { headers: { Authorization: `Bearer basic//${token}` } }).catch(
      () => 'dropped',
    );
    const closing = Date.now();
    await emulator.close();
    assert.equal(await pending, 'dropped');
    assert.ok(Date.now() - closing < 1000);
  });

  it('resets connections before answering', async () => {
    await withEmulator(
      { faults: { routes: [{ route: 'GET /processes', fault: { type: 'reset' } }] } },
      async (emulator) => {
        await assert.rejects(fetch(`${emulator.apiUrl}/processes`));
        assert.equal(emulator.admin.stats().faults.byType.reset, 1);
      },
    );
  });

  it('truncates bodies: the headers promise more than arrives', async () => {
    const faults: FaultConfig = { routes: [{ route: 'GET /collections', fault: { type: 'truncate', bytes: 10 } }] };
    await withEmulator({ faults }, async (emulator) => {
      const response = await fetch(`${emulator.apiUrl}/collections`);
      assert.equal(response.status, 200);
      assert.ok(Number(response.headers.get('content-length')) > 10);
      await assert.rejects(response.text());
    });
  });

  it('resets in the middle of an asset download, and a Range request resumes it', async () => {
    const faults: FaultConfig = {
      routes: [
        {
          route: 'GET /jobs/{job_id}/results/assets/{asset_key}',
          maxTimes: 1,
          fault: { type: 'reset-mid-body', bytes: 3000 },
        },
      ],
    };
    await withEmulator({ faults, jobDurations: INSTANT, assetOrigin: 'separate' }, async (emulator) => {
      const token = await login(emulator);
      const id = await createJob(emulator, token, 'download');
      await api(emulator, `/jobs/${id}/results`, { method: 'POST', token });
      const item = (await api(emulator, `/jobs/${id}/results`, { token })).body;
      const asset = Object.values<{ href: string; 'file:size': number; 'file:checksum': string }>(item.assets)[0];

      const received: Buffer[] = [];
      const first = await fetch(asset.href);
      assert.equal(Number(first.headers.get('content-length')), asset['file:size']);
      await assert.rejects(async () => {
        for await (const chunk of first.body ?? []) received.push(Buffer.from(chunk as Uint8Array));
      });
      const partial = Buffer.concat(received);
      assert.ok(partial.length <= 3000, `got ${partial.length} bytes before the reset`);

      const rest = await fetch(asset.href, { headers: { Range: `bytes=${partial.length}-` } });
      assert.equal(rest.status, 206);
      const whole = Buffer.concat([partial, Buffer.from(await rest.arrayBuffer())]);
      assert.equal(whole.length, asset['file:size']);
      assert.equal(`1220${createHash('sha256').update(whole).digest('hex')}`, asset['file:checksum']);
      assert.equal(emulator.admin.stats().faults.byType['reset-mid-body'], 1);
    });
  });

  it('never touches the admin API, and lets a test replace the faults at run time', async () => {
    await withEmulator(
      { faults: { routes: [{ route: '*', fault: { type: 'status', status: 500 } }] } },
      async (emulator) => {
        assert.equal((await api(emulator, '/')).status, 500);
        const current = await api(emulator, `${emulator.url}/_emulator/faults`);
        assert.equal(current.status, 200);
        assert.deepEqual(current.body, { routes: [{ route: '*', fault: { type: 'status', status: 500 } }] });

        const invalid = await api(emulator, `${emulator.url}/_emulator/faults`, {
          method: 'PUT',
          body: { routes: [{ route: '*' }] },
        });
        assertApiError(invalid, 400, 'RequestBodyInvalid');
        assert.match(invalid.body.message, /routes\.0\.fault/);
        assert.equal((await api(emulator, '/')).status, 500, 'an invalid config leaves the old one in place');

        const replaced = await api(emulator, `${emulator.url}/_emulator/faults`, { method: 'PUT', body: {} });
        assert.equal(replaced.status, 200);
        assert.equal((await api(emulator, '/')).status, 200);
        emulator.admin.setFaults({ routes: [{ route: 'GET /', fault: { type: 'status', status: 503 } }] });
        assert.equal((await api(emulator, '/')).status, 503);
      },
    );
  });
});

// ---------------------------------------------------------------- outage

describe('emulator faults: outage window', () => {
  it('fails every request inside the window (relative to the start), none outside', async () => {
    const clock = new ManualClock();
    await withEmulator({ clock, faults: { outage: { startMs: 1000, endMs: 2000 } } }, async (emulator) => {
      assert.equal((await api(emulator, '/')).status, 200);
      clock.advance(1000);
      assertApiError(await api(emulator, '/'), 503, 'InfrastructureBusy');
      assertApiError(await api(emulator, '/jobs'), 503, 'InfrastructureBusy');
      assert.equal((await fetch(`${emulator.url}/.well-known/openeo`)).status, 503);
      assert.equal((await api(emulator, `${emulator.url}/_emulator/stats`)).status, 200, 'admin stays reachable');
      clock.advance(1000);
      assert.equal((await api(emulator, '/')).status, 200);
      assert.equal(emulator.admin.stats().faults.byType.outage, 3);
    });
  });

  it('starts an outage from now for a duration, with a custom fault', async () => {
    const clock = new ManualClock();
    await withEmulator({ clock }, async (emulator) => {
      clock.advance(60_000);
      emulator.admin.setFaults({ outage: { fromNowMs: 100, durationMs: 500, fault: { type: 'reset' } } });
      assert.equal((await api(emulator, '/')).status, 200);
      clock.advance(100);
      await assert.rejects(fetch(`${emulator.apiUrl}/`));
      clock.advance(500);
      assert.equal((await api(emulator, '/')).status, 200);
    });
  });
});

// ---------------------------------------------------------------- job faults

describe('emulator faults: job faults', () => {
  it('fails the first N jobs whose title matches, then lets a resubmitted attempt succeed', async () => {
    const faults: FaultConfig = {
      jobs: { rules: [{ titleContains: 'E595000-N5660000', failFirst: 1, code: 'TileBroken' }] },
    };
    await withEmulator({ faults, jobDurations: INSTANT }, async (emulator) => {
      const token = await login(emulator);
      const outcome = async (title: string) => {
        const id = await createJob(emulator, token, title);
        await api(emulator, `/jobs/${id}/results`, { method: 'POST', token });
        return [emulator.admin.job(id)?.status, emulator.admin.job(id)?.errorCode];
      };
      assert.deepEqual(await outcome('b/E595000-N5660000 attempt 1'), ['error', 'TileBroken']);
      assert.deepEqual(await outcome('b/E590000-N5660000 attempt 1'), ['finished', undefined]);
      assert.deepEqual(await outcome('b/E595000-N5660000 attempt 2'), ['finished', undefined]);
      assert.deepEqual(emulator.admin.stats().faults.byType, { 'job-fail-first': 1 });
    });
  });

  it('fails runs at random with a seeded, reproducible pattern', async () => {
    const pattern = async (seed: number) => {
      const emulator = await startEmulator({
        faults: { seed, jobs: { errorProbability: 0.5 } },
        jobDurations: INSTANT,
      });
      try {
        const token = await login(emulator);
        const outcomes: string[] = [];
        for (let i = 0; i < 12; i++) {
          const id = await createJob(emulator, token, `job ${i}`);
          await api(emulator, `/jobs/${id}/results`, { method: 'POST', token });
          outcomes.push(emulator.admin.job(id)?.status ?? '?');
        }
        return outcomes;
      } finally {
        await emulator.close();
      }
    };
    const first = await pattern(3);
    assert.deepEqual(await pattern(3), first);
    assert.ok(first.includes('error') && first.includes('finished'), first.join(','));
  });

  it('keeps matching jobs in queued or created forever without blocking the others', async () => {
    const clock = new ManualClock();
    const faults: FaultConfig = {
      jobs: {
        rules: [
          { titleContains: 'stuck-q', stuckIn: 'queued' },
          { titleContains: 'stuck-c', stuckIn: 'created' },
        ],
      },
    };
    await withEmulator(
      { clock, faults, maxRunningJobsPerUser: 1, jobDurations: { queuedMs: 100, runningMs: 1000 } },
      async (emulator) => {
        const token = await login(emulator);
        const queued = await createJob(emulator, token, 'stuck-q');
        const created = await createJob(emulator, token, 'stuck-c');
        const normal = await createJob(emulator, token, 'normal');
        for (const id of [queued, created, normal]) {
          assert.equal((await api(emulator, `/jobs/${id}/results`, { method: 'POST', token })).status, 202);
        }
        clock.advance(3_600_000);
        assert.equal(emulator.admin.job(queued)?.status, 'queued');
        assert.equal(emulator.admin.job(created)?.status, 'created');
        assert.equal(emulator.admin.job(normal)?.status, 'finished', 'the stuck job does not hold the queue');
        assert.equal((await api(emulator, `/jobs/${queued}/results`, { method: 'DELETE', token })).status, 204);
        assert.equal(emulator.admin.job(queued)?.status, 'created');
        assert.deepEqual(emulator.admin.stats().faults.byType, { 'job-stuck-queued': 1, 'job-stuck-created': 1 });
      },
    );
  });
});

// ---------------------------------------------------------------- CLI flags

describe('emulator faults: command-line flags', () => {
  const base = { port: 0, queuedSeconds: 1, runningSeconds: 2, maxRunning: 3 };

  it('merges the fault file with --fail-rate, --error-rate and --seed', async () => {
    const file: FaultConfig = { seed: 1, routes: [{ route: 'GET /jobs', everyNth: 5, fault: { type: 'hang' } }] };
    const options = await emulatorOptionsFromFlags(
      {
        ...base,
        faults: 'faults.json',
        failRate: 0.1,
        errorRate: 0.2,
        seed: 9,
        concurrencyMode: 'reject',
        results: 'collection',
        assetOrigin: 'separate',
        stateFile: 's.json',
      },
      async (path) => (path === 'faults.json' ? JSON.stringify(file) : ''),
    );
    assert.deepEqual(options.faults, {
      seed: 9,
      routes: [file.routes?.[0], { route: '*', probability: 0.1, fault: { type: 'status', status: 503 } }],
      jobs: { errorProbability: 0.2 },
    });
    assert.equal(options.concurrencyMode, 'reject');
    assert.equal(options.resultsMode, 'collection');
    assert.equal(options.assetOrigin, 'separate');
    assert.equal(options.stateFile, 's.json');
    assert.deepEqual(options.jobDurations, { queuedMs: 1000, runningMs: 2000 });
    assert.equal(options.maxRunningJobsPerUser, 3);
  });

  it('rejects unknown modes, rates outside [0, 1] and invalid fault files', async () => {
    await assert.rejects(
      emulatorOptionsFromFlags({ ...base, results: 'feature' }),
      /--results must be one of item, collection/,
    );
    await assert.rejects(emulatorOptionsFromFlags({ ...base, failRate: 2 }), /--fail-rate/);
    await assert.rejects(
      emulatorOptionsFromFlags({ ...base, faults: 'f.json' }, async () => '{not json'),
      /cannot read the fault configuration f\.json/,
    );
    await assert.rejects(
      emulatorOptionsFromFlags({ ...base, faults: 'f.json' }, async () => '{"routes": 1}'),
      FaultConfigError,
    );
  });
});

/**
 * The emulator's per-user quotas over real HTTP: 429 `TooManyRequests` with `Retry-After` beyond
 * the concurrent-request and job-start limits, and the peaks and refusals in its stats.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emulatorOptionsFromFlags, ManualClock, startEmulator } from '../../src/tools/emulator';
import { api, assertApiError, login, withEmulator } from '../support/emulator-api';

const PROCESS = { process_graph: { add: { process_id: 'add', arguments: { x: 1, y: 2 }, result: true } } };

async function createJob(emulator: Parameters<typeof api>[0], token: string): Promise<string> {
  const created = await api(emulator, '/jobs', { method: 'POST', token, body: { process: PROCESS, title: 'quota' } });
  assert.equal(created.status, 201, created.text);
  return created.headers.get('openeo-identifier') as string;
}

describe('emulator quotas', () => {
  it('answers 429 TooManyRequests with Retry-After beyond the concurrent requests of a user, and counts the peak', async () => {
    const options = {
      maxConcurrentRequestsPerUser: 2,
      faults: { routes: [{ route: 'GET /jobs', fault: { type: 'latency' as const, ms: 400 } }] },
    };
    await withEmulator(options, async (emulator) => {
      const token = await login(emulator);
      const answers = await Promise.all([1, 2, 3, 4].map(() => api(emulator, '/jobs', { token })));
      const refusedAnswers = answers.filter((a) => a.status === 429);
      assert.equal(answers.filter((a) => a.status === 200).length, 2);
      assert.equal(refusedAnswers.length, 2);
      assertApiError(refusedAnswers[0], 429, 'TooManyRequests');
      assert.equal(refusedAnswers[0].headers.get('retry-after'), '1');
      // Once the slow ones are answered, the user has slots again.
      assert.equal((await api(emulator, '/jobs', { token })).status, 200);
      const { quotas } = emulator.admin.stats();
      assert.deepEqual(quotas.concurrentRequestsPerUser.demo, { current: 0, max: 2 });
      assert.deepEqual(quotas.refused, { total: 2, concurrentRequests: 2, jobStarts: 0 });
    });
  });

  it('counts requests without a token nowhere: discovery and the admin API are never refused', async () => {
    await withEmulator(
      {
        maxConcurrentRequestsPerUser: 1,
        faults: { routes: [{ route: 'GET /', fault: { type: 'latency' as const, ms: 200 } }] },
      },
      async (emulator) => {
        const answers = await Promise.all([1, 2, 3].map(() => api(emulator, '/')));
        assert.deepEqual(
          answers.map((a) => a.status),
          [200, 200, 200],
        );
        assert.deepEqual(emulator.admin.stats().quotas.concurrentRequestsPerUser, {});
      },
    );
  });

  it('refuses the 13th job start in a minute until the first leaves the window, and counts the most starts in any 60 s', async () => {
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    await withEmulator(
      { clock, maxJobStartsPerMinutePerUser: 3, jobDurations: { queuedMs: 0, runningMs: 0 } },
      async (emulator) => {
        const token = await login(emulator);
        const jobs = [];
        for (let i = 0; i < 5; i++) jobs.push(await createJob(emulator, token));
        for (const job of jobs.slice(0, 3)) {
          assert.equal((await api(emulator, `/jobs/${job}/results`, { method: 'POST', token })).status, 202);
          clock.advance(10_000);
        }
        const refused = await api(emulator, `/jobs/${jobs[3]}/results`, { method: 'POST', token });
        assertApiError(refused, 429, 'TooManyRequests');
        // The first start was at 0 s; it is now 30 s: 30 s to wait.
        assert.equal(refused.headers.get('retry-after'), '30');
        clock.advance(30_000);
        assert.equal((await api(emulator, `/jobs/${jobs[3]}/results`, { method: 'POST', token })).status, 202);
        const { quotas } = emulator.admin.stats();
        assert.equal(quotas.jobStartsPerMinutePerUser.demo.max, 3);
        assert.deepEqual(quotas.refused, { total: 1, concurrentRequests: 0, jobStarts: 1 });
      },
    );
  });

  it('counts starts in a scaled-down window when given one: the same rule, in 10 s instead of 60', async () => {
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    await withEmulator(
      { clock, maxJobStartsPerMinutePerUser: 2, jobStartWindowMs: 10_000, jobDurations: { queuedMs: 0, runningMs: 0 } },
      async (emulator) => {
        const token = await login(emulator);
        const jobs = [];
        for (let i = 0; i < 3; i++) jobs.push(await createJob(emulator, token));
        for (const job of jobs.slice(0, 2)) {
          assert.equal((await api(emulator, `/jobs/${job}/results`, { method: 'POST', token })).status, 202);
          clock.advance(3_000);
        }
        const refused = await api(emulator, `/jobs/${jobs[2]}/results`, { method: 'POST', token });
        assertApiError(refused, 429, 'TooManyRequests');
        // The first start was at 0 s; it is now 6 s: 4 s to wait.
        assert.equal(refused.headers.get('retry-after'), '4');
        clock.advance(4_000);
        assert.equal((await api(emulator, `/jobs/${jobs[2]}/results`, { method: 'POST', token })).status, 202);
        assert.equal(emulator.admin.stats().quotas.jobStartsPerMinutePerUser.demo.max, 2);
      },
    );
    await assert.rejects(startEmulator({ jobStartWindowMs: 0 }), /jobStartWindowMs/);
  });

  it('counts the peaks without limits too, and restarts them on reset', async () => {
    await withEmulator({}, async (emulator) => {
      const token = await login(emulator);
      const job = await createJob(emulator, token);
      assert.equal((await api(emulator, `/jobs/${job}/results`, { method: 'POST', token })).status, 202);
      assert.equal(emulator.admin.stats().quotas.jobStartsPerMinutePerUser.demo.max, 1);
      assert.equal(emulator.admin.stats().quotas.concurrentRequestsPerUser.demo.max, 1);
      emulator.admin.resetStats();
      assert.deepEqual(emulator.admin.stats().quotas.concurrentRequestsPerUser.demo, { current: 0, max: 0 });
    });
  });

  it('takes its quotas from the command line, and refuses nonsense with the option named', async () => {
    const options = await emulatorOptionsFromFlags({
      port: 0,
      queuedSeconds: 1,
      runningSeconds: 1,
      maxRunning: 2,
      maxConcurrentRequests: 2,
      maxJobStartsPerMinute: 12,
    });
    assert.equal(options.maxConcurrentRequestsPerUser, 2);
    assert.equal(options.maxJobStartsPerMinutePerUser, 12);
    await assert.rejects(
      startEmulator({ maxConcurrentRequestsPerUser: 0 }),
      /maxConcurrentRequestsPerUser must be a whole number of at least 1/,
    );
    await assert.rejects(startEmulator({ maxJobStartsPerMinutePerUser: 2.5 }), /maxJobStartsPerMinutePerUser/);
  });
});

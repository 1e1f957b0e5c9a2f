/**
 * Batches on a backend that accepts only OIDC, with a real OpenID provider whose access tokens
 * live 2 seconds: jobs that outlast many tokens, a refresh token revoked mid-batch (the backend
 * pauses, a new login and `resume --backend` finish the batch), logins refused before any job
 * exists, with the reason shown, and no token or secret in the batch's history.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { DefaultLogger } from '@temporalio/worker';
import { OpenEOBatchClient } from '../../src/app/client';
import { BatchFailedError } from '../../src/app/batch-failure';
import { summaryText } from '../../src/app/cli/progress';
import { revokeToken, type RunningOidcProvider } from '../../src/tools/oidc-provider';
import type { CredentialStore } from '../../src/core/openeo/credentials';
import { startHarness, type Harness } from '../support/harness';
import { ACCESS_TOKEN_SECONDS, emulatorOidc, loginAsUser, startProvider, tokenEnv } from '../support/oidc';

const CLI = join(__dirname, '..', '..', 'src', 'app', 'cli', 'main.js');

async function storedRefreshToken(path: string, provider: RunningOidcProvider): Promise<string> {
  const data = JSON.parse(await readFile(path, 'utf8')) as Record<string, Record<string, { refresh_token: string }>>;
  return data[provider.issuer][provider.publicClientId].refresh_token;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** How long the emulator runs a job: longer than two access tokens live. */
const JOB_SECONDS = 2.5 * ACCESS_TOKEN_SECONDS;

describe('batches with OIDC logins', () => {
  let provider: RunningOidcProvider;
  let h: Harness;
  let queue = 0;
  before(async () => {
    provider = await startProvider();
    h = await startHarness(
      {
        ...emulatorOidc(provider),
        maxRunningJobsPerUser: 20,
        jobDurations: { queuedMs: 50, runningMs: JOB_SECONDS * 1000 },
      },
      // The same logins, with short jobs: for tests about who logs in, not about tokens running out.
      { quick: { ...emulatorOidc(provider), jobDurations: { queuedMs: 50, runningMs: 150 } } },
    );
  });
  after(async () => {
    await h.teardown();
    await provider.close();
  });

  const oidc = (extra: Record<string, string> = {}): CredentialStore => ({
    emulator: { url: h.emulator.url, auth: { type: 'oidc', ...extra } },
  });

  /** A worker on its own task queue with these credentials, and a client for that queue. */
  async function workerWith(
    credentials: CredentialStore,
    env: NodeJS.ProcessEnv,
    logger?: DefaultLogger,
  ): Promise<OpenEOBatchClient> {
    const taskQueue = `${h.taskQueue}-oidc-${++queue}`;
    await h.startWorker({ taskQueue, credentials, env, loginRetryDelayMs: 500, ...(logger ? { logger } : {}) });
    return new OpenEOBatchClient(h.temporal, taskQueue);
  }

  function countForbidden(): number {
    return Object.values(h.emulator.admin.stats().requests.byRoute).reduce(
      (n, byStatus) => n + (byStatus['403'] ?? 0),
      0,
    );
  }

  it('runs jobs that outlast many access tokens: every tile finishes, no TokenInvalid', async (t) => {
    const env = await tokenEnv();
    await loginAsUser(h.emulator.url, env);
    const client = await workerWith(oidc(), env);
    const refreshesBefore = provider.grants().refresh_token ?? 0;
    const forbiddenBefore = countForbidden();
    const started = Date.now();
    const { batchId } = await client.start(h.spec({ batchId: 'oidc-long', cols: 2, rows: 2 }));
    const summary = await client.wait(batchId);
    assert.equal(summary.counts.finished, 4);
    assert.deepEqual(summary.failedTiles, []);
    const refreshes = (provider.grants().refresh_token ?? 0) - refreshesBefore;
    const seconds = (Date.now() - started) / 1000;
    t.diagnostic(
      `batch of ${seconds.toFixed(0)} s with ${ACCESS_TOKEN_SECONDS} s access tokens: ${refreshes} refreshes, ${countForbidden() - forbiddenBefore} requests answered 403`,
    );
    // Renewals follow the requests, which come in bursts (each job's start, its first progress
    // readings, the look aimed just after its end): the ends of the two rounds of 5 s jobs, at
    // about 5 s and 10 s, each come long after the token before them expired.
    assert.ok(refreshes >= 2, `refreshed ${refreshes} times in ${seconds} s`);

    // Nothing secret in the history: no refresh token, no access token, no bearer header.
    const ids = [batchId, ...(await client.tiles(batchId)).map((tile) => tile.workflowId)];
    const text = JSON.stringify(await Promise.all(ids.map((id) => h.temporal.workflow.getHandle(id).fetchHistory())));
    assert.ok(text.includes('E590000-N5660000'), 'the export holds the batch');
    assert.ok(!text.includes(await storedRefreshToken(env.OPENEO_TEMPORAL_TOKEN_STORE, provider)), 'no refresh token');
    assert.ok(!/eyJ[\w-]{10,}\.|oidc\/local\/|Bearer/.test(text), 'no access token');
  });

  it('logs a service account in with client credentials, and keeps its secret out of history', async () => {
    const { clientId, clientSecret } = provider.serviceAccount;
    const client = await workerWith(oidc({ clientId, clientSecret }), await tokenEnv());
    const before = provider.grants().client_credentials ?? 0;
    const { batchId } = await client.start(h.spec({ batchId: 'oidc-service', cols: 1, rows: 1 }));
    const summary = await client.wait(batchId);
    assert.equal(summary.counts.finished, 1);
    assert.ok((provider.grants().client_credentials ?? 0) - before >= 2, 'tokens renewed with client credentials');
    assert.ok(h.emulator.admin.jobs().some((job) => job.title?.startsWith('oidc-service/') && job.owner === clientId));
    const ids = [batchId, ...(await client.tiles(batchId)).map((tile) => tile.workflowId)];
    const text = JSON.stringify(await Promise.all(ids.map((id) => h.temporal.workflow.getHandle(id).fetchHistory())));
    assert.ok(!text.includes(clientSecret), 'no client secret');
    assert.ok(!/eyJ[\w-]{10,}\.|oidc\/local\//.test(text), 'no access token');
  });

  it('keeps two service accounts with one client id apart: the wrong secret fails on its own, in either order', async () => {
    const { clientId, clientSecret } = provider.serviceAccount;
    const quick = h.backends.quick;
    const account = (secret: string) => ({
      url: quick.url,
      auth: { type: 'oidc' as const, clientId, clientSecret: secret },
    });
    const client = await workerWith(
      { right: account(clientSecret), wrong: account(`${clientSecret}-wrong`) },
      await tokenEnv(),
    );
    const run = async (backend: string, batchId: string) => {
      const spec = h.spec({ batchId, cols: 1, rows: 1 });
      spec.backends = [{ name: backend, url: quick.url, parallelJobs: 1 }];
      return client.wait((await client.start(spec)).batchId);
    };
    const failsOnItsOwn = (batchId: string) => (err: unknown) => {
      assert.ok(err instanceof BatchFailedError);
      assert.match(
        err.message,
        new RegExp(
          `^batch ${batchId} failed: BackendLoginFailed: backends\\[0\\]: cannot log in to backend "wrong": the OpenID provider \\S+ refused the client ${clientId}: invalid_client.*; check the service account's OPENEO_BACKEND_WRONG_OIDC_CLIENT_ID and OPENEO_BACKEND_WRONG_OIDC_CLIENT_SECRET$`,
        ),
      );
      return true;
    };
    // The wrong secret first, then the right one, then the wrong one again: one worker, both orders.
    await assert.rejects(run('wrong', 'oidc-secret-wrong-first'), failsOnItsOwn('oidc-secret-wrong-first'));
    assert.equal((await run('right', 'oidc-secret-right')).counts.finished, 1);
    await assert.rejects(run('wrong', 'oidc-secret-wrong-after'), failsOnItsOwn('oidc-secret-wrong-after'));
    const jobs = quick.admin.jobs().filter((job) => job.title?.startsWith('oidc-secret-'));
    assert.deepEqual(
      jobs.map((job) => [job.title?.split('/')[0], job.owner]),
      [['oidc-secret-right', clientId]],
      'only the right account created a job',
    );
  });

  it('pauses the backend when the refresh token is revoked mid-batch; a new login and resume --backend finish it', async (t) => {
    const env = await tokenEnv();
    await loginAsUser(h.emulator.url, env);
    // The worker's own warnings (its job tracker's), as its logger receives them.
    const warnings: string[] = [];
    const client = await workerWith(oidc(), env, new DefaultLogger('WARN', (entry) => warnings.push(entry.message)));
    const spec = h.spec({ batchId: 'oidc-revoked', cols: 3, rows: 1 });
    spec.backends = [{ name: 'emulator', url: h.emulator.url, parallelJobs: 1 }];
    const { batchId } = await client.start(spec);
    await until('a running job', async () =>
      h.emulator.admin.jobs().some((j) => j.title?.startsWith('oidc-revoked/') && j.status === 'running')
        ? true
        : undefined,
    );
    await revokeToken(
      provider.issuer,
      provider.publicClientId,
      await storedRefreshToken(env.OPENEO_TEMPORAL_TOKEN_STORE, provider),
    );

    const paused = await until('the backend paused', async () => {
      const progress = await client.progress(batchId);
      return progress.pausedBackends.emulator ? progress : undefined;
    });
    assert.match(
      paused.pausedBackends.emulator,
      /cannot log in to this backend: the OpenID provider .* refused the refresh token: invalid_grant.*openeo-temporal login emulator.*resume <batch> --backend emulator/,
    );
    assert.equal(paused.counts.error, 0, 'no tile failed');
    t.diagnostic(`status shows:\n${summaryText(paused)}`);
    assert.match(summaryText(paused), /backend emulator paused: the worker cannot log in/);
    const loginLines = () => warnings.filter((line) => /log in/.test(line));
    await until('the lost login in the worker log', async () => (loginLines().length > 0 ? true : undefined));

    await loginAsUser(h.emulator.url, env);
    await client.resumeBackend(batchId, 'emulator');
    const summary = await client.wait(batchId);
    assert.equal(summary.counts.finished, 3);
    assert.deepEqual(summary.failedTiles, []);
    assert.equal(
      h.emulator.admin.jobs().filter((j) => j.title?.startsWith('oidc-revoked/')).length,
      3,
      'one job per tile',
    );
    // Once for the backend (not per job, wait or look), and once when the new login works.
    t.diagnostic(`the worker logged:\n${loginLines().join('\n')}`);
    assert.equal(loginLines().length, 2, loginLines().join('\n'));
    assert.match(
      loginLines()[0],
      /^backend emulator: could not log in to backend "emulator": the OpenID provider .* refused the refresh token/,
    );
    assert.equal(loginLines()[1], 'backend emulator: the worker can log in again; its followed jobs go on');
  });

  it('fails a batch whose refresh token was revoked before it starts, before any job exists, saying to log in', async () => {
    const env = await tokenEnv();
    await loginAsUser(h.emulator.url, env);
    await revokeToken(
      provider.issuer,
      provider.publicClientId,
      await storedRefreshToken(env.OPENEO_TEMPORAL_TOKEN_STORE, provider),
    );
    const client = await workerWith(oidc(), env);
    const { batchId } = await client.start(h.spec({ batchId: 'oidc-revoked-early', cols: 1, rows: 1 }));
    await assert.rejects(client.wait(batchId), (err: unknown) => {
      assert.ok(err instanceof BatchFailedError);
      assert.match(
        err.message,
        /^batch oidc-revoked-early failed: BackendLoginFailed: backends\[0\]: cannot log in to backend "emulator": the OpenID provider \S+ refused the refresh token: invalid_grant .*; log in again: run `openeo-temporal login emulator`$/,
      );
      return true;
    });
    assert.equal(h.emulator.admin.jobs().filter((j) => j.title?.startsWith('oidc-revoked-early/')).length, 0, 'no job');
  });

  it('fails a batch with a wrong password before any job exists, and start --wait and status say why', async (t) => {
    const client = await workerWith(
      { emulator: { url: h.emulator.url, auth: { type: 'basic', username: 'tester', password: 'wrong' } } },
      await tokenEnv(),
    );
    const env = { ...process.env, TEMPORAL_ADDRESS: h.server.address, TEMPORAL_NAMESPACE: h.server.namespace };
    const specFile = join(h.workDir, 'wrong-password.json');
    await import('node:fs/promises').then((fs) =>
      fs.writeFile(specFile, JSON.stringify(h.spec({ batchId: 'wrong-password', cols: 1, rows: 1 }))),
    );
    const run = promisify(execFile);
    const started = await run(process.execPath, [CLI, 'start', specFile, '--wait', '--task-queue', client.taskQueue], {
      env,
    }).then(
      () => assert.fail('start --wait should fail'),
      (err: { code: number; stderr: string }) => err,
    );
    t.diagnostic(`start --wait printed: ${started.stderr.trim()}`);
    assert.equal(started.code, 1);
    assert.match(
      started.stderr,
      /error: batch wrong-password failed: BackendLoginFailed: backends\[0\]: cannot log in to backend "emulator": CredentialsInvalid: .*; check OPENEO_BACKEND_EMULATOR_USERNAME and OPENEO_BACKEND_EMULATOR_PASSWORD on the worker/,
    );
    const errorLines = started.stderr.split('\n').filter((line) => line.startsWith('error') || line.startsWith(' '));
    assert.equal(errorLines.length, 1, 'one line: the reason');
    assert.ok(
      !started.stderr.includes("'wrong'") && !started.stderr.includes('"wrong"'),
      'the password is not printed',
    );
    const status = await run(process.execPath, [CLI, 'status', 'wrong-password'], { env });
    t.diagnostic(`status printed: ${status.stdout.trim()}`);
    assert.match(
      status.stdout,
      /^batch wrong-password failed: BackendLoginFailed: .*CredentialsInvalid: Username or password is wrong\.; check OPENEO_BACKEND_EMULATOR_USERNAME .*\n$/,
    );
    assert.equal(h.emulator.admin.jobs().filter((j) => j.title?.startsWith('wrong-password/')).length, 0, 'no job');
  });
});

/** The command line's pure pieces: the progress line, the Temporal UI's address, log lines and error lines. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ApplicationFailure, ActivityFailure, RetryState } from '@temporalio/common';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { parseAddress, temporalUiUrl, uiLinkLine, workflowUiLink } from '../../src/app/cli/ui-link';
import { errorSummary, formatLogLine } from '../../src/app/cli/terminal-log';
import { describeCliError } from '../../src/app/cli/cli-errors';
import { BatchFailedError } from '../../src/app/batch-failure';
import { barPayload, pausedNote } from '../../src/app/cli/progress';
import { emptyCounts } from '../../src/core/records';
import type { BatchProgress } from '../../src/core/progress';

function minutesBefore(now: Date, minutes: number): string {
  return new Date(now.getTime() - minutes * 60_000).toISOString();
}

describe('the progress line of start --wait', () => {
  const loginReason =
    'the worker cannot log in to this backend: no refresh token; log in first: run `openeo-temporal login emulator`';
  const progress = (over: Partial<BatchProgress>): BatchProgress => ({
    batchId: 'b1',
    totalTiles: 4,
    counts: { ...emptyCounts(), running: 2, not_started: 2 },
    failedTiles: [],
    outputDir: 'out',
    costs: 0,
    inFlight: [],
    run: 1,
    paused: false,
    pausedBackends: {},
    backends: [
      { name: 'emulator', url: 'http://127.0.0.1:1', parallelJobs: 2 },
      { name: 'cdse', url: 'http://127.0.0.1:2', parallelJobs: 2 },
    ],
    ...over,
  });

  it('names each paused backend with its reason, and a paused batch', () => {
    assert.equal(pausedNote(progress({})), '');
    assert.equal(
      pausedNote(progress({ pausedBackends: { emulator: loginReason } })),
      ` · emulator paused: ${loginReason}`,
    );
    assert.equal(
      pausedNote(progress({ paused: true, pausedBackends: { cdse: 'errors' } })),
      ' · batch paused · cdse paused: errors',
    );
  });

  it('shows the pauses after the costs, and no ETA while nothing can start', () => {
    // Two tiles ended in the 10 minutes since the first started: 12 tiles an hour, 4 left: 20 minutes.
    const now = new Date('2024-06-01T12:00:00Z');
    const ended = [1, 2].map((m) => ({
      status: 'finished' as const,
      createdAt: minutesBefore(now, 10),
      finishedAt: minutesBefore(now, m),
    }));
    const one = barPayload(progress({ pausedBackends: { emulator: loginReason } }), ended, now);
    assert.equal(one.paused, ` · emulator paused: ${loginReason}`);
    assert.equal(one.timeLeft, '20m 00s', 'the other backend still starts tiles');
    const all = barPayload(progress({ pausedBackends: { emulator: loginReason, cdse: loginReason } }), ended, now);
    assert.equal(all.timeLeft, '--');
    assert.equal(barPayload(progress({ paused: true }), ended, now).timeLeft, '--');
    assert.equal(barPayload(progress({}), ended, now).paused, '');
    assert.equal(barPayload(progress({}), [], now).timeLeft, '--', 'nothing ended yet: unknown');
  });
});

describe('the Temporal UI of the server in use', () => {
  const nowhere = async () => false;
  const noDevServer = join(tmpdir(), 'openeo-temporal-no-dev-server');

  it('takes the configured UI first', async () => {
    assert.equal(
      await temporalUiUrl({
        configured: 'https://ui.example.org/',
        address: 'localhost:7233',
        devDataDir: noDevServer,
        answers: nowhere,
      }),
      'https://ui.example.org',
    );
    assert.equal(
      workflowUiLink('https://ui.example.org/', 'ns', 'a/b'),
      'https://ui.example.org/namespaces/ns/workflows/a%2Fb',
    );
  });

  it('knows Temporal Cloud', async () => {
    for (const address of ['my-ns.a2b3c.tmprl.cloud:7233', 'us-east-1.aws.api.temporal.io:7233']) {
      const ui = await temporalUiUrl({ address, devDataDir: noDevServer, answers: nowhere });
      assert.equal(
        workflowUiLink(ui, 'my-ns.a2b3c', 'b1'),
        'https://cloud.temporal.io/namespaces/my-ns.a2b3c/workflows/b1',
      );
    }
  });

  it('derives no link for a server elsewhere, and says how to get one', async () => {
    assert.equal(
      await temporalUiUrl({
        address: 'temporal.internal.example.org:7233',
        devDataDir: noDevServer,
        answers: async () => true,
      }),
      undefined,
    );
    assert.match(uiLinkLine(undefined, 'default', 'b1'), /set TEMPORAL_UI_URL \(or --ui-url\)/);
  });

  it("finds a local dev server's UI: the one `openeo-temporal dev` recorded, else the default port when it answers", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ui-link-'));
    try {
      await writeFile(
        join(dir, 'devserver.json'),
        JSON.stringify({
          pid: 1,
          address: '127.0.0.1:7233',
          uiUrl: 'http://127.0.0.1:9999',
          namespace: 'default',
          dbFile: 'x',
          logFile: 'y',
          startedAt: '',
        }),
      );
      assert.equal(
        await temporalUiUrl({ address: 'localhost:7233', devDataDir: dir, answers: nowhere }),
        'http://127.0.0.1:9999',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    // A real HTTP server plays the UI, 1000 ports above the gRPC port (the dev server's default).
    const ui = createServer((_req, res) => res.end('<html>Temporal</html>'));
    await new Promise<void>((resolve) => ui.listen(0, '127.0.0.1', resolve));
    const uiPort = (ui.address() as AddressInfo).port;
    try {
      const found = await temporalUiUrl({ address: `127.0.0.1:${uiPort - 1000}`, devDataDir: noDevServer });
      assert.equal(found, uiPort > 1000 ? `http://127.0.0.1:${uiPort}` : undefined);
      assert.equal(
        await temporalUiUrl({ address: '127.0.0.1:7233', devDataDir: noDevServer, answers: nowhere }),
        undefined,
        'no UI answers: no link',
      );
    } finally {
      ui.close();
    }
  });

  it('reads addresses as the SDK does', () => {
    assert.deepEqual(parseAddress('Localhost'), { host: 'localhost', port: 7233 });
    assert.deepEqual(parseAddress('[::1]:7300'), { host: '[::1]', port: 7300 });
  });
});

describe('worker log lines', () => {
  it('are one line with the innermost reason, never a stack', () => {
    const refused = ApplicationFailure.nonRetryable(
      'tiles.file: cannot read /x.geojson on the worker',
      'InvalidBatchSpec',
    );
    const line = formatLogLine({
      level: 'WARN',
      message: 'Activity failed',
      timestampNanos: 1_700_000_000_000_000_000n,
      meta: {
        sdkComponent: 'worker',
        taskToken: 'abc',
        activityType: 'prepareBatch',
        attempt: 1,
        workflowId: 'b1',
        workflowType: 'batchWorkflow',
        error: refused,
        durationMs: 3,
      },
    });
    assert.equal(
      line,
      '2023-11-14T22:13:20.000Z [WARN] Activity failed: prepareBatch (attempt 1) of b1: InvalidBatchSpec: tiles.file: cannot read /x.geojson on the worker',
    );
    const wrapped = new ActivityFailure(
      'Activity task failed',
      'prepareBatch',
      '1',
      RetryState.NON_RETRYABLE_FAILURE,
      undefined,
      refused,
    );
    assert.equal(errorSummary(wrapped), 'InvalidBatchSpec: tiles.file: cannot read /x.geojson on the worker');
    const spec = formatLogLine({
      level: 'WARN',
      message: 'Workflow failed',
      timestampNanos: 0n,
      meta: {
        workflowType: 'batchWorkflow',
        workflowId: 'b2',
        error: new Error('the batch spec is invalid:\n  - a: b\n  - c: d'),
      },
    });
    assert.equal(
      spec,
      '1970-01-01T00:00:00.000Z [WARN] Workflow failed: batchWorkflow b2: the batch spec is invalid: - a: b - c: d',
    );
    assert.equal(
      formatLogLine({ level: 'WARN', message: 'slow', timestampNanos: 0n, meta: { change: 'pause' } }),
      '1970-01-01T00:00:00.000Z [WARN] slow (change=pause)',
    );
  });
});

describe('command errors', () => {
  it('say why in a line, with a cause that adds to it', () => {
    assert.equal(
      describeCliError(new BatchFailedError('b1', { code: 'BackendLoginFailed', message: 'cannot log in' })),
      'error: batch b1 failed: BackendLoginFailed: cannot log in',
    );
    assert.equal(
      describeCliError(new WorkflowNotFoundError('workflow not found for ID: b9', 'b9', undefined)),
      'error: workflow not found for ID: b9',
    );
    assert.equal(
      describeCliError(new WorkflowNotFoundError('workflow execution already completed', 'b1', undefined)),
      'error: workflow execution already completed (batch b1)',
    );
    assert.equal(
      describeCliError(new Error('cannot start', { cause: new Error('disk full') })),
      'error: cannot start\n  because: disk full',
    );
    assert.equal(describeCliError('plain'), 'error: plain');
    const refusedChange = new WorkflowUpdateFailedError(
      'Workflow Update failed',
      ApplicationFailure.nonRetryable('backend: "nowhere" is not a backend of this batch', 'InvalidBatchChange'),
    );
    assert.equal(
      describeCliError(refusedChange),
      'error: InvalidBatchChange: backend: "nowhere" is not a backend of this batch',
    );
  });
});

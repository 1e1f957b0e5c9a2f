#!/usr/bin/env node
/**
 * The `openeo-temporal` command line. Each command is a thin layer over the library: the
 * client API, the worker, the dev server and emulator modules.
 */
import { Command, InvalidArgumentError } from 'commander';
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { OpenEOBatchClient } from '../client';
import { ensureTemporalCli } from '../../tools/devserver';
import { emulatorOptionsFromFlags, startEmulator, type EmulatorCliFlags } from '../../tools/emulator';
import type { TileFeature } from '../../core/batch-spec/tile-types';
import { createOpenEOWorker } from '../worker';
import { runDemo, startLocalDevServer } from './demo';
import { cliTemporalUiUrl, DEV_DATA_DIR, uiLinkLine } from './ui-link';
import { cancelledText, followBatch, summaryText, tileTable } from './progress';
import { registerLoginCommand } from './login';
import { registerExportCommand } from './export';
import { registerPlanCommand } from './plan';
import { readSpecFile } from './spec-file';
import { connectClient, describeCliError, EXIT_CANCELLED, EXIT_FAILED } from './cli-errors';
import { BatchCancelledError } from '../batch-failure';
import { terminalLogFunction } from './terminal-log';
import { registerDashboardCommand } from './dashboard';
import { LOCAL_SERVICE_ACCOUNT, withLocalOidcProvider, type EmulatorOidcFlags } from './emulator-oidc';
import { loadHooksModule } from './hooks-module';

const DATA_DIR = DEV_DATA_DIR;

// The SDK logs every worker state change at INFO; a terminal user wants warnings and errors.
// OPENEO_TEMPORAL_LOG_LEVEL=INFO (or DEBUG) brings the rest back.
// One line per entry (a refused batch's reason, not its stack), except at DEBUG and TRACE.
const logLevel = (process.env.OPENEO_TEMPORAL_LOG_LEVEL?.toUpperCase() ?? 'WARN') as LogLevel;
Runtime.install({
  logger: new DefaultLogger(logLevel, ['DEBUG', 'TRACE'].includes(logLevel) ? undefined : terminalLogFunction),
});

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number');
  return n;
}

function credits(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError('expected a number of credits greater than 0, such as 100');
  return n;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of seconds');
  return n;
}

/** The batch's page in the Temporal UI of the server in use, or how to get a link. */
async function batchUiLine(client: OpenEOBatchClient, batchId: string, uiUrl: string | undefined): Promise<string> {
  return uiLinkLine(await cliTemporalUiUrl(uiUrl), client.client.options.namespace, batchId);
}

/** The installed package's version: its package.json is four folders above `dist/src/app/cli`. */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(resolve(__dirname, '..', '..', '..', '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

const program = new Command('openeo-temporal')
  .description('Durable, tiled openEO batch processing on Temporal')
  .version(packageVersion(), '-V, --version', 'print the version of openeo-temporal')
  .showHelpAfterError();

program
  .command('setup')
  .description('find the Temporal CLI, or build it from Go modules (once, cached outside the repo)')
  .action(async () => {
    const path = await ensureTemporalCli({ log: (line) => console.log(line) });
    console.log(`Temporal CLI: ${path}`);
  });

program
  .command('dev')
  .description('start (or reuse) a local Temporal dev server that keeps its state in a SQLite file')
  .option('--data-dir <dir>', 'where the SQLite file and logs live', DATA_DIR)
  .option('--port <port>', 'gRPC port', integer, 7233)
  .option('--ui-port <port>', 'web UI port', integer, 8233)
  .action(async (opts: { dataDir: string; port: number; uiPort: number }) => {
    const server = await startLocalDevServer(opts);
    console.log(`Temporal dev server ${server.reused ? 'already running' : 'started'} (pid ${server.pid})`);
    console.log(`  address: ${server.address}\n  UI:      ${server.uiUrl ?? 'off'}\n  data:    ${server.dataDir}`);
  });

program
  .command('emulator')
  .description(
    'run the openEO API emulator: a local openEO backend to try batches offline (see src/tools/emulator/README.md)',
  )
  .option('--port <port>', 'HTTP port', integer, 8123)
  .option('--host <host>', 'interface to listen on', '127.0.0.1')
  .option('--queued-seconds <s>', 'how long a started job stays queued', seconds, 1)
  .option('--running-seconds <s>', 'how long a job runs', seconds, 4)
  .option('--max-running <n>', 'running jobs per user', integer, 2)
  .option('--max-concurrent-requests <n>', 'requests per user in flight at once; more get 429 (CDSE: 2)', integer)
  .option('--max-job-starts-per-minute <n>', 'job starts per user in any 60 s; more get 429 (CDSE: 12)', integer)
  .option('--concurrency-mode <mode>', 'beyond --max-running: queue (wait) or reject (400 ConcurrentJobLimit, as CDSE)')
  .option('--results <mode>', 'results document: item or collection (as CDSE)')
  .option('--failed-job-results <mode>', 'results of a failed job: spec (424 + error) or cdse (400 JobNotFinished)')
  .option(
    '--result-checksum <form>',
    'file:checksum of results: sha2-256, md5, or malformed (d510 + the MD5 digest as text, as some catalogues publish)',
  )
  .option('--graph-checks <phase>', 'refuse bad process graphs at create (default), start (as CDSE) or run (job error)')
  .option('--asset-origin <mode>', 'serve result files from the API origin (same) or a second port (separate)')
  .option('--asset-port <port>', 'port of the separate asset origin (default: a free port)', integer)
  .option('--assets-require-token', 'same-origin result files also need the Bearer token')
  .option('--token-lifetime-seconds <s>', 'validity of access tokens', seconds)
  .option('--link-ttl-seconds <s>', 'validity of signed result links', seconds)
  .option('--faults <file>', 'fault injection configuration (JSON)')
  .option('--fail-rate <p>', 'probability that a request fails with 503 InfrastructureBusy', Number)
  .option('--error-rate <p>', 'probability that a job run ends in error', Number)
  .option('--seed <n>', 'seed of the fault injection', integer)
  .option('--state-file <file>', 'keep jobs and tokens in this file across restarts')
  .option(
    '--oidc-provider <local>',
    'also start a local OpenID provider and accept its tokens (try `openeo-temporal login`)',
  )
  .option('--oidc-port <port>', 'port of the local OpenID provider (default: a free port)', integer)
  .option('--oidc-token-lifetime-seconds <s>', 'access-token lifetime of the local OpenID provider', seconds)
  .option('--oidc-issuer <url>', 'accept access tokens of this OpenID provider (checked with its JWKS or userinfo)')
  .option('--oidc-provider-id <id>', 'the provider id listed at /credentials/oidc (default: local, or oidc)')
  .option('--oidc-client-id <id>', 'a public client listed as default client for the device flow')
  .option('--oidc-audience <aud>', 'the audience its access tokens must have')
  .option('--oidc-scopes <scopes>', 'scopes clients should ask for, space-separated')
  .action(async (flags: EmulatorCliFlags & EmulatorOidcFlags) => {
    const oidc = await withLocalOidcProvider(flags);
    const emulator = await startEmulator(await emulatorOptionsFromFlags(flags));
    console.log(
      `openEO emulator listening on ${emulator.url} (user "demo", password "demo-password"); Ctrl-C stops it`,
    );
    if (flags.oidcIssuer) console.log(`  OpenID provider "${flags.oidcProviderId ?? 'oidc'}": ${flags.oidcIssuer}`);
    if (oidc)
      console.log(
        `  try: openeo-temporal login ${emulator.url}; service account ${LOCAL_SERVICE_ACCOUNT.clientId} / ${LOCAL_SERVICE_ACCOUNT.clientSecret}`,
      );
    if (emulator.assetUrl) console.log(`  result files from ${emulator.assetUrl}`);
    console.log(`  admin API: ${emulator.url}/_emulator/stats, ${emulator.url}/_emulator/faults`);
    // Stop cleanly so the state file gets its final write.
    const stop = () => {
      Promise.all([emulator.close(), oidc?.close()]).then(
        () => process.exit(0),
        () => process.exit(1),
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });

registerLoginCommand(program);
registerExportCommand(program);
registerPlanCommand(program);
registerDashboardCommand(program);

program
  .command('worker')
  .description('run a worker (Temporal settings from TEMPORAL_* variables, backend credentials from OPENEO_BACKEND_*)')
  .option('--task-queue <name>', 'task queue to poll', 'openeo')
  .option('--hooks <module>', 'a JS module exporting jobFactories and/or postprocessors (see docs/hooks.md)')
  .action(async (opts: { taskQueue: string; hooks?: string }) => {
    const worker = await createOpenEOWorker({
      taskQueue: opts.taskQueue,
      ...(opts.hooks ? await loadHooksModule(opts.hooks) : {}),
    });
    console.log(`worker polling task queue "${opts.taskQueue}"; Ctrl-C stops it`);
    await worker.run();
  });

program
  .command('start')
  .description('start a batch from a spec file')
  .argument('<spec>', 'batch spec (JSON)')
  .option('--batch-id <id>', 'batch id (the workflow id), when the spec has none')
  .option('--task-queue <name>', 'task queue of the workers', 'openeo')
  .option('--wait', 'follow the batch with a progress bar until it ends')
  .option('--yes', 'start it even when it has more tiles than its maxTiles')
  .option(
    '--ui-url <url>',
    'the Temporal UI for links (default: $TEMPORAL_UI_URL, else derived for Temporal Cloud and a local dev server)',
  )
  .action(
    async (
      specPath: string,
      opts: { batchId?: string; taskQueue: string; wait?: boolean; yes?: boolean; uiUrl?: string },
    ) => {
      const client = await connectClient({ taskQueue: opts.taskQueue });
      const { batchId } = await client.start(await readSpecFile(specPath), {
        batchId: opts.batchId,
        confirmSize: opts.yes,
      });
      console.log(`started batch ${batchId}\n  ${await batchUiLine(client, batchId, opts.uiUrl)}`);
      if (opts.wait) {
        console.log(summaryText(await followBatch(client, batchId)));
      }
    },
  );

program
  .command('status')
  .description("a batch's counts per status and a table of its tiles")
  .argument('<batchId>')
  .option('--json', 'print JSON instead of a table')
  .action(async (batchId: string, opts: { json?: boolean }) => {
    const client = await connectClient();
    const [progress, tiles] = await Promise.all([
      client.progress(batchId),
      client.tiles(batchId, { liveJobIds: true }),
    ]);
    if (opts.json) {
      console.log(JSON.stringify({ progress, tiles }, null, 2));
    } else {
      console.log(summaryText(progress));
      if (!progress.failure) console.log(tileTable(tiles));
    }
  });

program
  .command('cancel')
  .description('cancel a batch: every in-flight tile cancels its openEO job')
  .argument('<batchId>')
  .action(async (batchId: string) => {
    await (await connectClient()).cancel(batchId);
    console.log(`cancellation of batch ${batchId} requested`);
  });

program
  .command('retry-failed')
  .description('run the failed tiles of an ended batch again (same batch id and folders)')
  .argument('<batchId>')
  .option('--task-queue <name>', 'task queue of the workers', 'openeo')
  .option('--wait', 'follow the retry with a progress bar until it ends')
  .option(
    '--ui-url <url>',
    'the Temporal UI for links (default: $TEMPORAL_UI_URL, else derived for Temporal Cloud and a local dev server)',
  )
  .action(async (batchId: string, opts: { taskQueue: string; wait?: boolean; uiUrl?: string }) => {
    const client = await connectClient({ taskQueue: opts.taskQueue });
    const { tiles } = await client.retryFailed(batchId);
    console.log(
      `retrying ${tiles} failed tiles of batch ${batchId}\n  ${await batchUiLine(client, batchId, opts.uiUrl)}`,
    );
    if (opts.wait) {
      console.log(summaryText(await followBatch(client, batchId)));
    }
  });

program
  .command('postprocess')
  .description("run the post-processing of an ended batch's tiles again (no new job, no new download)")
  .argument('<batchId>')
  .option('--tiles <ids>', 'these tiles (comma-separated ids); default: the tiles whose post-processing failed')
  .option('--failed', 'only tiles whose post-processing failed (the default without --tiles)')
  .option('--task-queue <name>', 'task queue of the workers', 'openeo')
  .option('--wait', 'follow it with a progress bar until it ends')
  .action(async (batchId: string, opts: { tiles?: string; failed?: boolean; taskQueue: string; wait?: boolean }) => {
    const client = await connectClient({ taskQueue: opts.taskQueue });
    const tiles = opts.tiles
      ?.split(',')
      .map((id) => id.trim())
      .filter((id) => id !== '');
    const started = await client.postprocess(batchId, { tiles, failed: opts.failed });
    console.log(`post-processing ${started.tiles} tiles of batch ${batchId} again`);
    if (opts.wait) console.log(summaryText(await followBatch(client, batchId)));
  });

program
  .command('pause')
  .description('stop starting new tiles of a batch (tiles in flight go on)')
  .argument('<batchId>')
  .action(async (batchId: string) => {
    await (await connectClient()).pause(batchId);
    console.log(`batch ${batchId} paused`);
  });

program
  .command('resume')
  .description('start tiles of a paused batch again; with --backend, resume a backend the batch paused after failures')
  .argument('<batchId>')
  .option('--backend <name>', 'the backend to resume')
  .action(async (batchId: string, opts: { backend?: string }) => {
    const client = await connectClient();
    if (opts.backend) await client.resumeBackend(batchId, opts.backend);
    else await client.resume(batchId);
    console.log(`batch ${batchId}${opts.backend ? `: backend ${opts.backend}` : ''} resumed`);
  });

program
  .command('budget')
  .description("change a batch's budget in credits; tiles held back by the old one start once the new one allows")
  .argument('<batchId>')
  .requiredOption('--credits <n>', 'credits the batch (or, with --backend, that backend) may spend', credits)
  .option('--backend <name>', "set this backend's limit instead of the batch's")
  .action(async (batchId: string, opts: { credits: number; backend?: string }) => {
    const change = opts.backend ? { backends: { [opts.backend]: opts.credits } } : { credits: opts.credits };
    const budget = await (await connectClient()).setBudget(batchId, change);
    const limits = [
      ...(budget.credits !== undefined ? [`${budget.credits} credits`] : []),
      ...Object.entries(budget.backends ?? {}).map(([name, n]) => `${name}: ${n} credits`),
    ];
    console.log(`batch ${batchId} budget: ${limits.join(', ')}`);
  });

program
  .command('set-parallel-jobs')
  .description("change a backend's parallelJobs (and maxQueued) while the batch runs")
  .argument('<batchId>')
  .argument('<backend>')
  .argument('<parallelJobs>', 'jobs created, queued or running at once', integer)
  .option('--max-queued <n>', 'jobs waiting in the backend queue at most', integer)
  .action(async (batchId: string, backend: string, parallelJobs: number, opts: { maxQueued?: number }) => {
    const backends = await (await connectClient()).setParallelJobs(batchId, backend, parallelJobs, opts.maxQueued);
    for (const b of backends)
      console.log(
        `${b.name}: parallelJobs ${b.parallelJobs}${b.maxQueued !== undefined ? `, maxQueued ${b.maxQueued}` : ''}`,
      );
  });

program
  .command('add-tiles')
  .description('add tiles to a running batch from a GeoJSON FeatureCollection file (EPSG:4326)')
  .argument('<batchId>')
  .argument('<geojson>')
  .action(async (batchId: string, file: string) => {
    const collection = JSON.parse(await readFile(file, 'utf8')) as { features?: TileFeature[] };
    if (!Array.isArray(collection.features)) throw new Error(`${file}: expected a GeoJSON FeatureCollection`);
    const ids = await (await connectClient()).addTiles(batchId, collection.features);
    console.log(`added ${ids.length} tiles: ${ids.join(', ')}`);
  });

program
  .command('demo')
  .description('run the demo batch end to end: dev server, emulator, worker, progress bar')
  .option('--spec <file>', 'batch spec', 'examples/antwerp-bap.json')
  .option('--data-dir <dir>', 'dev server data directory', DATA_DIR)
  .option('--port <port>', 'Temporal gRPC port', integer, 7233)
  .option('--ui-port <port>', 'Temporal UI port', integer, 8233)
  .action(async (opts: { spec: string; dataDir: string; port: number; uiPort: number }) => {
    await runDemo({ specPath: opts.spec, dataDir: opts.dataDir, port: opts.port, uiPort: opts.uiPort });
  });

program.parseAsync(process.argv).then(
  // Connections keep the event loop alive; a finished command ends the process, except the
  // long-running ones (worker, emulator), which never resolve here while they serve.
  () => {
    const longRunning = ['worker', 'emulator'].includes(process.argv[2] ?? '');
    // A command may set process.exitCode (plan does, when it finds problems).
    if (!longRunning) process.exit();
  },
  (err: unknown) => {
    // A cancelled batch did not fail: its end is told like a finished one's, with a code of its own.
    if (err instanceof BatchCancelledError) {
      console.log(cancelledText(err));
      process.exit(EXIT_CANCELLED);
    }
    console.error(describeCliError(err));
    process.exit(EXIT_FAILED);
  },
);

import { Client, Connection } from '@temporalio/client';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  type DevSearchAttributes,
  type DevServer,
  devServerFiles,
  ensureTemporalCli,
  findRunningDevServer,
  findTemporalCli,
  isServerHealthy,
  readDevServerState,
  startDevServer,
  startOrReuseDevServer,
} from '../../src/tools/devserver';
import { findFreePorts } from '../../src/tools/devserver/free-port';

// Real `temporal` binary, real dev servers (each start takes 1–3 s). The tests share one
// data directory and run in order: later ones check what earlier ones left in the SQLite file.

const NAMESPACE = 'openeo-devserver-test';
const SEARCH_ATTRIBUTES: DevSearchAttributes = { OpenEOJobId: 'Keyword', OpenEOTileCount: 'Int' };
const WORKFLOW_ID = 'survives-restart';
const THIRTY_DAYS_SECONDS = 30 * 24 * 3600;
const SLOW = { timeout: 120_000 };

let cliPath: string;
let dataDir: string;
const started: DevServer[] = [];

async function withClient<T>(server: DevServer, use: (client: Client, connection: Connection) => Promise<T>) {
  const connection = await Connection.connect({ address: server.address });
  try {
    return await use(new Client({ connection, namespace: server.namespace }), connection);
  } finally {
    await connection.close();
  }
}

async function start(extra: Partial<Parameters<typeof startDevServer>[0]> = {}): Promise<DevServer> {
  const server = await startDevServer({
    dataDir,
    cliPath,
    namespace: NAMESPACE,
    searchAttributes: SEARCH_ATTRIBUTES,
    ...extra,
  });
  started.push(server);
  return server;
}

before(
  async () => {
    // On a fresh machine this builds the CLI once (minutes); afterwards it is a cache lookup.
    cliPath = await ensureTemporalCli({ log: (line) => console.log(`[temporal-cli] ${line}`) });
    dataDir = await mkdtemp(path.join(tmpdir(), 'devserver-test-'));
  },
  { timeout: 30 * 60_000 },
);

after(async () => {
  for (const server of started) if (server.running) await server.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('ensureTemporalCli with the real binary', () => {
  it('finds the cached binary and honours TEMPORAL_CLI_PATH', async () => {
    const cacheDir = path.join(dataDir, 'cli-cache');
    await mkdir(path.join(cacheDir, 'bin'), { recursive: true });
    await symlink(cliPath, path.join(cacheDir, 'bin', 'temporal'));
    const fromCache = await ensureTemporalCli({ env: { OPENEO_TEMPORAL_CACHE_DIR: cacheDir, PATH: '' } });
    assert.equal(fromCache, path.join(cacheDir, 'bin', 'temporal'));
    const { stdout } = await promisify(execFile)(fromCache, ['--version']);
    assert.match(stdout, /Server 1\.29\.1/);

    assert.equal(await ensureTemporalCli({ env: { TEMPORAL_CLI_PATH: cliPath, PATH: '' } }), cliPath);
    assert.throws(() => findTemporalCli({ env: { TEMPORAL_CLI_PATH: dataDir } }), /TEMPORAL_CLI_PATH/);
  });
});

describe('dev server', () => {
  let first: DevServer;

  it('starts on free ports with a SQLite file, healthy, configured', SLOW, async () => {
    const startedAt = Date.now();
    first = await start();
    console.log(`dev server started in ${Date.now() - startedAt} ms at ${first.address}, UI ${first.uiUrl}`);

    assert.match(first.address, /^127\.0\.0\.1:\d+$/);
    assert.notEqual(first.address, '127.0.0.1:7233', 'a free port, not the default one');
    assert.ok(existsSync(devServerFiles(dataDir).dbFile), 'state lives in temporal.sqlite');
    assert.equal(await isServerHealthy(first.address), true);
    const recorded = await readDevServerState(dataDir);
    assert.deepEqual([recorded?.pid, recorded?.address, recorded?.uiUrl], [first.pid, first.address, first.uiUrl]);
    const ui = await fetch(first.uiUrl!);
    assert.equal(ui.status, 200, 'the web UI answers');

    await withClient(first, async (client, connection) => {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: NAMESPACE });
      assert.equal(customAttributes.OpenEOJobId, 2); // INDEXED_VALUE_TYPE_KEYWORD
      assert.equal(customAttributes.OpenEOTileCount, 3); // INDEXED_VALUE_TYPE_INT

      const { config } = await connection.workflowService.describeNamespace({ namespace: NAMESPACE });
      assert.equal(Number(config?.workflowExecutionRetentionTtl?.seconds), THIRTY_DAYS_SECONDS);

      // No worker serves this type: the execution just stays open, which is all we need.
      await client.workflow.start('NoWorkerServesThis', {
        workflowId: WORKFLOW_ID,
        taskQueue: 'nobody-polls-this',
        args: [{ job: 'j-1' }],
      });
    });
  });

  it('is reused instead of started twice', SLOW, async () => {
    const reused = await startOrReuseDevServer({
      dataDir,
      cliPath,
      namespace: NAMESPACE,
      searchAttributes: SEARCH_ATTRIBUTES,
    });
    assert.equal(reused.reused, true);
    assert.equal(reused.address, first.address);
    assert.equal(reused.pid, first.pid);
    assert.equal((await findRunningDevServer(dataDir))?.address, first.address);
    await assert.rejects(start(), /already running/);
  });

  it('keeps executions and settings across stop and start on the same database', SLOW, async () => {
    await first.stop();
    assert.equal(first.running, false);
    assert.equal(await readDevServerState(dataDir), undefined, 'stop removes devserver.json');
    assert.equal(await findRunningDevServer(dataDir), undefined);

    // A search attribute added to the configuration later must be registered on the existing namespace.
    const second = await start({ searchAttributes: { ...SEARCH_ATTRIBUTES, OpenEOBackend: 'Keyword' }, ui: false });
    assert.equal(second.uiUrl, undefined);
    await withClient(second, async (client, connection) => {
      const description = await client.workflow.getHandle(WORKFLOW_ID).describe();
      assert.equal(description.type, 'NoWorkerServesThis');
      assert.equal(description.status.name, 'RUNNING');

      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: NAMESPACE });
      assert.ok('OpenEOJobId' in customAttributes && 'OpenEOBackend' in customAttributes);
    });

    // A crash leaves a stale devserver.json behind; it must not block the next start.
    second.kill();
    assert.equal(await second.waitForExit(5_000), true);
    assert.equal(await findRunningDevServer(dataDir), undefined);
    const third = await start({ ui: false });
    await withClient(third, async (client) => {
      assert.equal((await client.workflow.getHandle(WORKFLOW_ID).describe()).status.name, 'RUNNING');
    });
    await third.stop();
  });

  it('fails with the end of the server log when the port is taken', SLOW, async () => {
    const blocker = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    const failedDir = path.join(dataDir, 'port-taken');
    try {
      await assert.rejects(startDevServer({ dataDir: failedDir, cliPath, port, ui: false }), (error: Error) => {
        assert.match(error.message, /did not start on 127\.0\.0\.1:\d+/);
        assert.match(error.message, /address already in use/, 'the log tail explains why');
        return true;
      });
    } finally {
      blocker.close();
    }
    assert.equal(await readDevServerState(failedDir), undefined);
  });

  it('leaves a detached server running after its starter exits', SLOW, async () => {
    const detachedDir = path.join(dataDir, 'detached');
    const modulePath = path.resolve(__dirname, '../../src/tools/devserver');
    const script = `
      require(${JSON.stringify(modulePath)})
        .startOrReuseDevServer({ dataDir: ${JSON.stringify(detachedDir)}, cliPath: ${JSON.stringify(cliPath)}, ui: false, detached: true })
        .then((server) => console.log(server.address));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script]);
    const running = await findRunningDevServer(detachedDir);
    assert.ok(running, 'the server outlived the process that started it');
    started.push(running);
    assert.equal(running.address, stdout.trim());
    await running.stop();
    assert.equal(running.running, false);
  });
});

describe('free ports', () => {
  it('hands out distinct ports in one call, each free to bind afterwards', async () => {
    const ports = await findFreePorts(24);
    assert.equal(new Set(ports).size, 24, `distinct: ${ports.join(' ')}`);
    for (const port of ports) {
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: '127.0.0.1', port, exclusive: true }, () => resolve());
      });
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

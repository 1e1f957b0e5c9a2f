/**
 * `openeo-temporal dashboard [batchId]`: the live map of a batch (or a list of batches to choose
 * from) on a local web page, served until Ctrl-C.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { createServer, type Server } from 'node:http';
import { connectClient } from './cli-errors';
import { cliTemporalUiUrl } from './ui-link';
import { createDashboard, DEFAULT_TEMPORAL_UI_URL, type DashboardHandler } from '../dashboard';

export const DEFAULT_DASHBOARD_PORT = 8300;

interface DashboardFlags {
  port: number;
  host: string;
  basemap?: string;
  uiUrl?: string;
}

export function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535)
    throw new InvalidArgumentError('expected a port number (0 picks a free one)');
  return n;
}

/** Serves `handler` on host:port; resolves with the page's URL once it listens. */
export function serve(
  handler: DashboardHandler,
  host: string,
  portNumber: number,
): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`--port: ${host}:${portNumber} is in use; choose another port (or --port 0 for a free one)`)
          : err,
      ),
    );
    server.listen(portNumber, host, () => {
      const address = server.address();
      const actual = typeof address === 'object' && address ? address.port : portNumber;
      resolve({ server, url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}/` });
    });
  });
}

/** Serves `handler` until Ctrl-C, after printing where: the dashboard, and `plan --map`. */
export async function serveUntilStopped(
  handler: DashboardHandler,
  host: string,
  portNumber: number,
  what: string,
): Promise<never> {
  const { server, url } = await serve(handler, host, portNumber);
  console.log(`${what} on the map: ${url}  (Ctrl-C stops it)`);
  return untilStopped(server, handler);
}

/** Waits for Ctrl-C (or SIGTERM), then stops serving and ends the process. */
function untilStopped(server: Server, handler: DashboardHandler): Promise<never> {
  return new Promise(() => {
    const stop = () => {
      void handler.close();
      server.close(() => process.exit(0));
      server.closeAllConnections();
      // Open event streams end with handler.close(); anything else is not waited for long.
      setTimeout(() => process.exit(0), 2_000).unref();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

export function registerDashboardCommand(program: Command): void {
  program
    .command('dashboard')
    .description(
      'a live map of a batch on a local web page: every tile in its status colour, previews of results, progress (without a batch id: a list to choose from)',
    )
    .argument('[batchId]', 'the batch to show')
    .option('--port <port>', 'HTTP port (0: a free one)', port, DEFAULT_DASHBOARD_PORT)
    .option('--host <host>', 'interface to listen on (the page has no login: keep it local)', '127.0.0.1')
    .option(
      '--basemap <url>',
      'a basemap tile URL template, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png (default: none, works offline)',
    )
    .option(
      '--ui-url <url>',
      `the Temporal UI, for each tile's link (default: TEMPORAL_UI_URL, else derived for Temporal Cloud and a local dev server, else ${DEFAULT_TEMPORAL_UI_URL})`,
    )
    .action(async (batchId: string | undefined, flags: DashboardFlags) => {
      const client = await connectClient();
      const uiUrl = (await cliTemporalUiUrl(flags.uiUrl)) ?? DEFAULT_TEMPORAL_UI_URL;
      const handler = createDashboard({
        client,
        ...(batchId ? { batchId } : {}),
        ...(flags.basemap ? { basemap: flags.basemap } : {}),
        uiUrl,
      });
      await serveUntilStopped(handler, flags.host, flags.port, batchId ? `batch ${batchId}` : 'batches');
    });
}

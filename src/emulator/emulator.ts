/**
 * Wires the emulator together and runs it on a real HTTP port.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { adminRoutes, createAdmin, type EmulatorAdmin } from './admin';
import { AuthService } from './auth';
import { API_PREFIX } from './constants';
import type { EmulatorCore } from './context';
import { discoveryRoutes } from './discovery';
import { FailurePolicy } from './failure';
import { jobRoutes } from './job-routes';
import { JobStore } from './jobs';
import { resolveOptions, type EmulatorOptions } from './options';
import { resolveRemoteProcesses } from './process-graph';
import { produceResult } from './results';
import { ASSET_ROUTE_PATH, resultRoutes } from './result-routes';
import { Router, type Route } from './router';
import { JobScheduler, SYSTEM_CLOCK } from './scheduler';
import { createRequestListener } from './server';
import { AssetUrlSigner } from './signing';
import { StatsRecorder } from './stats';

/** A started emulator. */
export interface RunningEmulator {
  /** Root URL, e.g. `http://127.0.0.1:43123`; pass it to `OpenEO.connect`. */
  readonly url: string;
  /** Versioned API base URL, e.g. `http://127.0.0.1:43123/openeo/1.2`. */
  readonly apiUrl: string;
  readonly port: number;
  /** In-process access to counters and job state. */
  readonly admin: EmulatorAdmin;
  /** Stops timers, drops open connections and closes the port. */
  close(): Promise<void>;
}

function urlHost(address: AddressInfo): string {
  // A wildcard bind is reachable via loopback; IPv6 literals need brackets in URLs.
  if (address.address === '0.0.0.0') return '127.0.0.1';
  if (address.address === '::') return '[::1]';
  return address.family === 'IPv6' ? `[${address.address}]` : address.address;
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo); // listening on TCP, so never a pipe name
    });
  });
}

/**
 * Starts an openEO API 1.2 emulator for the batch-job lifecycle.
 * @param options see {@link EmulatorOptions}; all optional.
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const settings = resolveOptions(options);
  const clock = SYSTEM_CLOCK;
  const stats = new StatsRecorder(clock.now);
  const store = new JobStore(clock.now);
  store.onChange((job, _from, to) => {
    if (to) stats.recordTransition(to);
    const counts = store.concurrency(job.owner);
    stats.observeConcurrency(job.owner, counts.active, counts.running, counts.runningTotal);
  });
  const scheduler = new JobScheduler(settings, {
    store,
    failurePolicy: new FailurePolicy(settings.failure),
    resolve: (graph) => resolveRemoteProcesses(graph, settings.udpRegistry),
    produceResult: (job) => produceResult(job, settings.rasterSize, clock.now()),
    clock,
    log: settings.log,
  });
  const core: EmulatorCore = {
    settings,
    auth: new AuthService(settings.users, settings.tokenLifetimeMs, clock.now),
    store,
    scheduler,
    stats,
    signer: new AssetUrlSigner(settings.signingSecret, settings.resultLinkTtlMs, clock.now),
    clock,
    assetOrigin: (apiOrigin) => apiOrigin,
  };
  const admin = createAdmin(core);
  const routes: Route[] = [];
  routes.push(...discoveryRoutes(core, () => routes), ...jobRoutes(core), ...resultRoutes(core), ...adminRoutes(admin));

  let rootUrl = `http://${settings.host}:${settings.port}`;
  const server = createServer(
    createRequestListener({
      router: new Router(routes),
      auth: core.auth,
      stats,
      hook: settings.requestHook,
      assetRoutePaths: new Set([ASSET_ROUTE_PATH]),
      fallbackOrigin: () => rootUrl,
    }),
  );
  const address = await listen(server, settings.port, settings.host);
  rootUrl = `http://${urlHost(address)}:${address.port}`;
  settings.log(`openEO emulator listening on ${rootUrl} (API ${rootUrl}${API_PREFIX})`);

  let closing: Promise<void> | undefined;
  return {
    url: rootUrl,
    apiUrl: `${rootUrl}${API_PREFIX}`,
    port: address.port,
    admin,
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        scheduler.dispose();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections(); // keep-alive sockets would otherwise delay close()
      });
      return closing;
    },
  };
}

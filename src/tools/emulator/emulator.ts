/**
 * Wires the emulator together and runs it on a real HTTP port (and, with
 * `assetOrigin: 'separate'`, a second port for result files).
 */
import { createServer } from 'node:http';
import { adminRoutes, createAdmin, type EmulatorAdmin } from './admin';
import { assetOriginFor, startAssetOrigin, type AssetOriginServer } from './asset-origin';
import { AuthService } from './auth';
import { OidcIssuerVerifier } from './oidc-verify';
import type { Clock } from './clock';
import { API_PREFIX } from './constants';
import type { EmulatorCore } from './context';
import { discoveryRoutes } from './discovery';
import { FailurePolicy, type FailureVerdict } from './failure';
import { FaultInjector } from './faults/injector';
import { graphRunFailure } from './graph-gate';
import { composeHooks } from './hooks';
import { jobRoutes } from './job-routes';
import { JobStore, type JobRecord } from './jobs';
import { closeServer, listen } from './listen';
import type { EmulatorOptions } from './options';
import { QuotaGuard } from './quota';
import { produceResult } from './results';
import { ASSET_ROUTE_PATH, resultRoutes } from './result-routes';
import { Router, type Route } from './router';
import { JobScheduler } from './scheduler';
import { createRequestListener } from './server';
import { randomSecret, resolveOptions } from './settings';
import { AssetUrlSigner } from './signing';
import { readStateFile, StateFileWriter } from './state-file';
import { parseState, restoreState, snapshotState, type PersistedState } from './state-snapshot';
import { StatsRecorder } from './stats';
import { validationRoutes } from './validation-routes';

/** A started emulator. */
export interface RunningEmulator {
  /** Root URL, e.g. `http://127.0.0.1:43123`; pass it to `OpenEO.connect`. */
  readonly url: string;
  /** Versioned API base URL, e.g. `http://127.0.0.1:43123/openeo/1.2`. */
  readonly apiUrl: string;
  /** The port the API listens on. */
  readonly port: number;
  /** Root URL of the separate asset origin; `undefined` with `assetOrigin: 'same'`. */
  readonly assetUrl: string | undefined;
  /** The clock job phases, expiry and outages run on (the `clock` option, or the system clock). */
  readonly clock: Clock;
  /** In-process access to counters, job state, faults and tokens. */
  readonly admin: EmulatorAdmin;
  /** Stops timers, drops open connections, closes the ports and writes the state file. */
  close(): Promise<void>;
}

async function loadState(path: string | undefined): Promise<PersistedState | undefined> {
  if (path === undefined) return undefined;
  const raw = await readStateFile(path);
  return raw === undefined ? undefined : parseState(raw, path);
}

/**
 * Starts an openEO API 1.2 emulator for the batch-job lifecycle.
 * @param options see {@link EmulatorOptions}; all optional.
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const settings = resolveOptions(options);
  const { clock } = settings;
  const saved = await loadState(settings.stateFile);
  // A persisted secret keeps links handed out before a restart valid.
  const signingSecret = settings.signingSecret ?? saved?.signingSecret ?? randomSecret();
  const stats = new StatsRecorder(clock.now);
  const store = new JobStore(clock.now);
  store.onChange((job, from, to) => {
    if (to && to !== from) stats.recordTransition(to);
    stats.observeConcurrency(job.owner, store.concurrency(job.owner));
  });
  const faults = new FaultInjector(
    { clock, stats, startedAt: clock.now() },
    settings.faults ?? saved?.faults.config ?? {},
  );
  const issuers = settings.oidcIssuers.map((options) => new OidcIssuerVerifier(options));
  const auth = new AuthService(settings.users, settings.tokenLifetimeMs, clock.now, settings.oidcProviders, issuers);
  for (const grant of settings.oidcTokens) auth.registerOidcToken(grant);
  const failurePolicy = new FailurePolicy(settings.failure);
  // Order: a graph with a problem (graph-checks.ts) fails as on a real back-end, then the fate set at creation,
  // then the option rules, then random fault injection.
  const decideFailure = (job: JobRecord): FailureVerdict | null => {
    return (
      graphRunFailure({ settings }, job.graph) ?? job.fate.failure ?? failurePolicy.decide(job) ?? faults.runFailure()
    );
  };
  const scheduler = new JobScheduler(settings, {
    store,
    decideFailure,
    produceResult: (job) =>
      produceResult(job, settings.rasterSize, clock.now(), settings.udpRegistry, settings.resultChecksum),
    clock,
    log: settings.log,
  });
  let assetServer: AssetOriginServer | undefined;
  const core: EmulatorCore = {
    settings,
    auth,
    store,
    scheduler,
    stats,
    signer: new AssetUrlSigner(signingSecret, settings.resultLinkTtlMs, clock.now),
    clock,
    faults,
    assetOrigin: (apiOrigin) => (assetServer ? assetOriginFor(apiOrigin, assetServer.port) : apiOrigin),
  };
  if (saved) {
    restoreState(core, saved);
    for (const owner of new Set(store.list().map((job) => job.owner))) {
      stats.observeConcurrency(owner, store.concurrency(owner));
    }
  }
  const admin = createAdmin(core);
  const routes: Route[] = [];
  routes.push(
    ...discoveryRoutes(core, () => routes),
    ...jobRoutes(core),
    ...validationRoutes(core),
    ...resultRoutes(core),
    ...adminRoutes(admin),
  );
  // Quotas first: a request refused for a quota never reaches the fault injector or a handler.
  const quotas = new QuotaGuard(settings, { auth, stats, now: clock.now });
  const hook = composeHooks([quotas, settings.requestHook, faults]);

  let rootUrl = `http://${settings.host}:${settings.port}`;
  const server = createServer(
    createRequestListener({
      router: new Router(routes),
      auth,
      stats,
      hook,
      assetRoutePaths: new Set([ASSET_ROUTE_PATH]),
      fallbackOrigin: () => rootUrl,
    }),
  );
  const bound = await listen(server, settings.port, settings.host);
  rootUrl = bound.url;
  if (settings.assetOrigin === 'separate') {
    try {
      assetServer = await startAssetOrigin(core, { host: settings.host, port: settings.assetPort, hook });
    } catch (error) {
      await closeServer(server);
      throw error;
    }
  }
  settings.log(`openEO emulator listening on ${rootUrl} (API ${rootUrl}${API_PREFIX})`);

  const writer = settings.stateFile
    ? new StateFileWriter(
        settings.stateFile,
        () => snapshotState(core, signingSecret, clock.now()),
        settings.stateSaveDelayMs,
        (error) => settings.log(`could not write the emulator state file: ${error.message}`),
      )
    : undefined;
  if (writer) {
    try {
      // Written once now, so an unwritable path fails the start instead of every later save.
      await writer.flush();
    } catch (error) {
      await Promise.all([closeServer(server), assetServer?.close()]);
      throw new Error(`cannot write the emulator state file ${settings.stateFile}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const save = () => writer.schedule();
    store.onChange(save);
    auth.onChange(save);
    faults.onChange(save);
  }
  // Resumed after the state listeners are in place, so jobs that end at once are persisted.
  scheduler.resume();

  let closing: Promise<void> | undefined;
  return {
    url: rootUrl,
    apiUrl: `${rootUrl}${API_PREFIX}`,
    port: bound.port,
    assetUrl: assetServer?.url,
    clock,
    admin,
    close: () => {
      closing ??= (async () => {
        scheduler.dispose();
        await Promise.all([closeServer(server), assetServer?.close()]);
        await writer?.flush();
      })();
      return closing;
    },
  };
}

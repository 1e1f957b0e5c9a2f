/**
 * The separate asset origin: a second HTTP server, on its own port, that
 * serves only signed result links, the way object storage does behind a
 * real back-end. It has no notion of users or tokens; it counts requests
 * that carried an `Authorization` header so tests can prove none leaked.
 */
import { createServer } from 'node:http';
import { API_PREFIX } from './constants';
import type { EmulatorCore } from './context';
import type { RequestHook } from './hooks';
import { closeServer, listen } from './listen';
import { ASSET_ROUTE_PATH, assetRoute } from './result-routes';
import { Router } from './router';
import { createRequestListener } from './server';

/** A running asset origin. */
export interface AssetOriginServer {
  /** Root URL, e.g. `http://127.0.0.1:43124`. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** Starts the asset server; request faults (`hook`) apply to it as to the API. */
export async function startAssetOrigin(
  core: EmulatorCore,
  options: { host: string; port: number; hook: RequestHook },
): Promise<AssetOriginServer> {
  let rootUrl = `http://${options.host}:${options.port}`;
  const server = createServer(
    createRequestListener({
      router: new Router([assetRoute(core, false)]),
      auth: core.auth,
      stats: core.stats,
      hook: options.hook,
      assetRoutePaths: new Set([ASSET_ROUTE_PATH]),
      fallbackOrigin: () => rootUrl,
      // Only whether a header was present is recorded, never its value.
      observe: (req) => core.stats.recordAssetOriginRequest(req.headers.authorization !== undefined),
    }),
  );
  const bound = await listen(server, options.port, options.host);
  rootUrl = bound.url;
  core.settings.log(`openEO emulator asset origin on ${rootUrl} (signed links under ${API_PREFIX}/jobs/…)`);
  return { url: rootUrl, port: bound.port, close: () => closeServer(server) };
}

/**
 * The asset origin for a client that reached the API at `apiOrigin`: the
 * same host name (so `localhost` stays `localhost`), the asset server's port.
 */
export function assetOriginFor(apiOrigin: string, assetPort: number): string {
  const url = new URL(apiOrigin);
  url.port = String(assetPort);
  return url.origin;
}

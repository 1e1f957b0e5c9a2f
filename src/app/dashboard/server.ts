/**
 * The live map of a batch as a Node `http` request handler, for the CLI's `dashboard` command or
 * a service that mounts it (under a path ending in `/`: the page's URLs are relative).
 *
 * Routes: `/` the page; `/static/…` and `/vendor/leaflet/…` its files; `/api/config`;
 * `/api/batches` (without a fixed batch); `/api/batches/<id>/events` (server-sent events: a
 * snapshot, then changes); `/api/batches/<id>/tiles/<tileId>/quicklook.png`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TileRow } from '../../core/records';
import type { OpenEOBatchClient } from '../client';
import { contentSecurityPolicy, loadAssets, sendAsset, type Assets } from './assets';
import { BatchFeed } from './batch-feed';
import { listBatches } from './batch-list';
import { openEventStream } from './event-stream';
import type { TileFeed } from './feed';
import { sendQuicklook } from './previews';
import { STATUS_COLOURS } from './tile-view';

export const DEFAULT_TEMPORAL_UI_URL = 'http://127.0.0.1:8233';
const DEFAULT_INTERVAL_MS = 2_000;

/** Options of {@link createDashboard}. */
export interface DashboardOptions {
  /** The client the dashboard reads batches with. */
  client: OpenEOBatchClient;
  /** Show this batch only; without it the page lists the namespace's batches to choose from. */
  batchId?: string;
  /** A basemap's tile URL template (`https://…/{z}/{x}/{y}.png`); without it, a plain background (offline). */
  basemap?: string;
  /** The Temporal UI, for each tile's link. @default http://127.0.0.1:8233 (the dev server's) */
  uiUrl?: string;
  /** How often open pages are brought up to date. @default 2000 */
  intervalMs?: number;
}

/**
 * A request handler; `close()` ends the open pages' streams and stops reading Temporal (it
 * resolves once no call is under way, so the client's connection may be closed then).
 */
export type DashboardHandler = ((req: IncomingMessage, res: ServerResponse) => void) & {
  /** Ends the open pages' streams and stops reading Temporal; resolves once no call is under way. */
  close(): Promise<void>;
};

/** What a page is set up with (`/api/config`). */
export interface PageConfig {
  mode: 'batch' | 'plan';
  /** The batch this dashboard shows, if only one. */
  batchId?: string;
  basemap?: string;
  colours: Record<string, string>;
}

interface Routes {
  config: PageConfig;
  /** The feed of a batch (or the plan), or undefined when this dashboard does not show it. */
  feed(batchId: string): TileFeed | undefined;
  batches?: () => Promise<unknown>;
  close(): Promise<void>;
}

/** The live map of one batch, or of any batch of the client's namespace. */
export function createDashboard(options: DashboardOptions): DashboardHandler {
  const { client } = options;
  const feeds = new Map<string, BatchFeed>();
  const view = {
    uiUrl: options.uiUrl ?? DEFAULT_TEMPORAL_UI_URL,
    namespace: client.client.options.namespace,
    previewUrl: (row: TileRow) =>
      `${quicklookPath(row.batchId, row.tileId)}?v=${encodeURIComponent(row.finishedAt ?? '')}`,
  };
  return handler(
    {
      config: {
        mode: 'batch',
        ...(options.batchId ? { batchId: options.batchId } : {}),
        ...(options.basemap ? { basemap: options.basemap } : {}),
        colours: { ...STATUS_COLOURS },
      },
      feed(batchId) {
        if (options.batchId !== undefined && batchId !== options.batchId) return undefined;
        let feed = feeds.get(batchId);
        if (!feed)
          feeds.set(
            batchId,
            (feed = new BatchFeed(client, batchId, { intervalMs: options.intervalMs ?? DEFAULT_INTERVAL_MS, view })),
          );
        return feed;
      },
      ...(options.batchId ? {} : { batches: () => listBatches(client.client) }),
      close: async () => {
        await Promise.all([...feeds.values()].map((feed) => feed.close()));
      },
    },
    options.basemap,
  );
}

/** The page's URL of a tile's quicklook (relative to the dashboard's root, as the page uses it). */
export function quicklookPath(batchId: string, tileId: string): string {
  return `api/batches/${encodeURIComponent(batchId)}/tiles/${encodeURIComponent(tileId)}/quicklook.png`;
}

/** The handler over a set of routes; `createPlanMap` uses it for planned tiles. */
export function handler(routes: Routes, basemap?: string): DashboardHandler {
  const assets = loadAssets();
  const csp = contentSecurityPolicy(basemap);
  const streams = new Set<() => void>();
  let closed = false;
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    // A stopped dashboard refuses all: an open page's EventSource then stops reconnecting.
    if (closed) return answer(res, 503, 'the dashboard was stopped');
    route(routes, assets, csp, streams, req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`the dashboard failed: ${err instanceof Error ? err.message : String(err)}`);
    });
  };
  return Object.assign(handle, {
    async close() {
      closed = true;
      for (const end of [...streams]) end();
      await routes.close();
    },
  });
}

async function route(
  routes: Routes,
  assets: Assets,
  csp: string,
  streams: Set<() => void>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://dashboard.invalid');
  if (req.method !== 'GET' && req.method !== 'HEAD') return answer(res, 405, 'only GET');
  const asset = assets.get(url.pathname === '/index.html' ? '/' : url.pathname);
  if (asset) return sendAsset(asset, res, asset.type.startsWith('text/html') ? { 'content-security-policy': csp } : {});
  if (url.pathname === '/api/config') return json(res, routes.config);
  if (url.pathname === '/api/batches')
    return routes.batches ? json(res, await routes.batches()) : answer(res, 404, 'this dashboard shows one batch');
  const parts = pathParts(url.pathname);
  if (!parts) return answer(res, 400, 'a malformed path');
  const [api, batches, batchId, what, tileId, file] = parts;
  if (api !== 'api' || batches !== 'batches' || !batchId) return answer(res, 404, 'not found');
  const feed = routes.feed(batchId);
  if (!feed) return answer(res, 404, `this dashboard does not show batch ${batchId}`);
  if (what === 'events' && tileId === undefined) return stream(feed, streams, req, res);
  if (what === 'tiles' && tileId && file === 'quicklook.png') return sendQuicklook(feed.row(tileId), res);
  return answer(res, 404, 'not found');
}

/** A page's live updates: the snapshot, then each change, until the page goes away. */
async function stream(
  feed: TileFeed,
  streams: Set<() => void>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  await feed.ready();
  const events = openEventStream(req, res);
  events.send('snapshot', feed.snapshot());
  const unsubscribe = feed.subscribe((update) => events.send('update', update));
  const end = () => events.end();
  streams.add(end);
  events.onClose(() => {
    unsubscribe();
    streams.delete(end);
  });
}

/** The path's segments, decoded (a tile id may hold a `/`); undefined when one is not valid. */
function pathParts(pathname: string): string[] | undefined {
  try {
    return pathname.slice(1).split('/').map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

function json(res: ServerResponse, body: unknown): void {
  res
    .writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' })
    .end(JSON.stringify(body));
}

function answer(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
}

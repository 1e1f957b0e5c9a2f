/**
 * The request pipeline on top of `node:http`: route matching, statistics, CORS,
 * the fault-injection hook, authentication, handler dispatch and turning
 * exceptions into openEO error responses.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { AuthService } from './auth';
import { API_PREFIX } from './constants';
import { answerPreflight, setCorsHeaders } from './cors';
import { ApiError } from './errors';
import { NOOP_REQUEST_HOOK, type RequestHook, type RequestHookOutcome } from './hooks';
import { ResponseWriter, requestOrigin } from './http-util';
import { routeKey, type Router } from './router';
import type { StatsRecorder } from './stats';

/** What the request pipeline needs. */
export interface PipelineDeps {
  router: Router;
  auth: AuthService;
  stats: StatsRecorder;
  hook?: RequestHook;
  /** Route paths whose response bytes count as asset downloads. */
  assetRoutePaths: ReadonlySet<string>;
  /** Origin for absolute URLs when a request has no Host header. */
  fallbackOrigin: () => string;
  /** Sees every request first (counters of the asset origin); must not keep or log credentials. */
  observe?: (req: IncomingMessage) => void;
}

/** Stats label for requests that match no route. */
const UNMATCHED = 'unmatched';

function notFound(pathname: string): ApiError {
  const version = /^\/openeo\/([^/]+)(\/|$)/.exec(pathname);
  if (version && `/openeo/${version[1]}` !== API_PREFIX) {
    return new ApiError('UnsupportedApiVersion', `API version '${version[1]}' is not offered; use ${API_PREFIX}.`);
  }
  return new ApiError('NotFound', `No resource at '${pathname}'.`);
}

/** Records the request once its response finished or its connection was dropped. */
function countWhenDone(stats: StatsRecorder, res: ServerResponse, label: string): void {
  let counted = false;
  res.once('finish', () => {
    counted = true;
    stats.recordRequest(label, res.statusCode);
  });
  res.once('close', () => {
    if (!counted) stats.recordRequest(label, 'aborted');
  });
}

async function handle(deps: PipelineDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const requestId = randomUUID();
  deps.observe?.(req);
  const method = req.method ?? 'GET';
  // Only path and query are taken from the request line; the base is a placeholder.
  const url = new URL(req.url ?? '/', 'http://emulator.invalid');
  const origin = requestOrigin(req, deps.fallbackOrigin());
  const match = deps.router.match(method, url.pathname);
  const label =
    match.kind === 'found'
      ? routeKey(match.route)
      : match.kind === 'method-not-allowed'
        ? `${method} ${match.path}`
        : UNMATCHED;
  countWhenDone(deps.stats, res, label);
  setCorsHeaders(res);
  if (method === 'OPTIONS' && match.kind === 'method-not-allowed') {
    // A browser's preflight: answered before faults and authentication, which apply to the real request.
    answerPreflight(res, match.allowed);
    return;
  }

  const params = match.kind === 'found' ? match.params : {};
  let outcome: RequestHookOutcome | void;
  try {
    outcome = await (deps.hook ?? NOOP_REQUEST_HOOK).beforeRoute({ req, res, route: label, params, requestId });
  } catch (error) {
    const writer = new ResponseWriter(res, method === 'HEAD', (n) => deps.stats.recordBytes(n, false));
    writer.error(new ApiError('Internal', `Request hook failed: ${(error as Error).message}`), requestId);
    return;
  }
  if (outcome?.handled) return;

  const isAsset = match.kind === 'found' && deps.assetRoutePaths.has(match.route.path);
  const writer = new ResponseWriter(
    res,
    method === 'HEAD',
    (bytes) => deps.stats.recordBytes(bytes, isAsset),
    outcome?.beforeSend,
  );
  try {
    if (match.kind === 'not-found') throw notFound(url.pathname);
    if (match.kind === 'method-not-allowed') {
      const allow = match.allowed.includes('GET') ? [...match.allowed, 'HEAD'] : match.allowed;
      throw new ApiError('MethodNotAllowed', `Method ${method} is not supported on '${url.pathname}'.`, {
        Allow: allow.join(', '),
      });
    }
    const user = match.route.auth ? await deps.auth.authenticate(req.headers.authorization) : undefined;
    await match.route.handler({ req, url, params, origin, requestId, writer, user });
    if (!writer.hasSent) throw new Error(`Handler of ${label} sent no response`);
  } catch (error) {
    if (error instanceof ApiError) {
      writer.error(error, requestId);
    } else {
      writer.error(new ApiError('Internal', `Unexpected emulator error: ${(error as Error).message}`), requestId);
    }
  }
}

/** Creates the `node:http` request listener for a route table. */
export function createRequestListener(deps: PipelineDeps): RequestListener {
  return (req, res) => {
    handle(deps, req, res).catch((error: unknown) => {
      // Last resort: a bug in the pipeline itself. Never leave the client hanging.
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(`emulator failure: ${String(error)}`);
      } else {
        res.destroy();
      }
    });
  };
}

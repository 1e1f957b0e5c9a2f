/**
 * A minimal route table: path templates with `{param}` segments, matched
 * segment by segment. Kept framework-free so the server keeps raw control
 * over sockets and responses.
 */
import type { IncomingMessage } from 'node:http';
import type { ResponseWriter } from './http-util';

/** HTTP methods the emulator routes (HEAD is served by GET routes). */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Everything a route handler gets for one request. */
export interface RouteContext {
  readonly req: IncomingMessage;
  readonly url: URL;
  readonly params: Readonly<Record<string, string>>;
  /** Scheme + authority used by the client, e.g. `http://127.0.0.1:4321`. */
  readonly origin: string;
  readonly requestId: string;
  readonly writer: ResponseWriter;
  /** The authenticated user; set for routes with `auth: true`. */
  readonly user: string | undefined;
}

/** One endpoint. */
export interface Route {
  method: HttpMethod;
  /** Full path template, e.g. `/openeo/1.2/jobs/{job_id}`. */
  path: string;
  /** Requires a valid Bearer token; the handler then sees `context.user`. */
  auth: boolean;
  /** Listed in the capabilities' `endpoints` (only real openEO endpoints are). */
  listed: boolean;
  handler: (context: RouteContext) => void | Promise<void>;
}

/** Result of looking up a request path. */
export type RouteMatch =
  | { kind: 'found'; route: Route; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allowed: HttpMethod[]; path: string }
  | { kind: 'not-found' };

/** The stats/hook key of a route, e.g. `GET /openeo/1.2/jobs/{job_id}`. */
export function routeKey(route: Pick<Route, 'method' | 'path'>): string {
  return `${route.method} ${route.path}`;
}

function splitPath(path: string): string[] {
  // A trailing slash is insignificant: `/openeo/1.2/` and `/openeo/1.2` are the same resource.
  return path.split('/').filter((segment, index, all) => index === 0 || segment !== '' || index < all.length - 1);
}

function matchTemplate(template: string[], actual: string[]): Record<string, string> | null {
  if (template.length !== actual.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < template.length; i++) {
    const expected = template[i];
    const segment = actual[i];
    if (expected.startsWith('{') && expected.endsWith('}')) {
      if (segment === '') return null;
      try {
        params[expected.slice(1, -1)] = decodeURIComponent(segment);
      } catch {
        return null; // malformed percent-encoding can't name any resource
      }
    } else if (expected !== segment) {
      return null;
    }
  }
  return params;
}

/** Looks up routes by method and path. */
export class Router {
  private readonly compiled: Array<{ route: Route; segments: string[] }>;

  constructor(readonly routes: readonly Route[]) {
    this.compiled = routes.map((route) => ({ route, segments: splitPath(route.path) }));
  }

  match(method: string, pathname: string): RouteMatch {
    const effectiveMethod = method === 'HEAD' ? 'GET' : method;
    const actual = splitPath(pathname);
    const allowed: HttpMethod[] = [];
    let template = '';
    for (const { route, segments } of this.compiled) {
      const params = matchTemplate(segments, actual);
      if (!params) continue;
      if (route.method === effectiveMethod) return { kind: 'found', route, params };
      allowed.push(route.method);
      template = route.path;
    }
    return allowed.length > 0 ? { kind: 'method-not-allowed', allowed, path: template } : { kind: 'not-found' };
  }
}

/**
 * Cross-origin resource sharing, as the openEO API's CORS section requires,
 * so browser tools (the openEO Web Editor, web pages) can use the emulator:
 * every response allows any origin and exposes the openEO headers, and
 * `OPTIONS` preflight requests get 204 with the methods of the endpoint.
 */
import type { ServerResponse } from 'node:http';
import type { HttpMethod } from './router';

/**
 * Response headers a browser script may read. The openEO API requires the
 * first four; the others matter for retries and resumed downloads.
 * (Headers browsers always expose, such as Content-Type, must not be listed.)
 */
export const CORS_EXPOSED_HEADERS = [
  'Location',
  'OpenEO-Identifier',
  'OpenEO-Costs',
  'Link',
  'Retry-After',
  'Content-Range',
  'Accept-Ranges',
  'WWW-Authenticate',
] as const;

/** Request headers a browser may send: the Bearer token, JSON bodies, byte ranges. */
export const CORS_ALLOWED_HEADERS = ['Authorization', 'Content-Type', 'Range'] as const;

/** How long browsers may cache a preflight answer, in seconds. */
const PREFLIGHT_MAX_AGE_SECONDS = 600;

/**
 * Sets the headers every response carries. Set on the response object
 * before anything is written, so error responses and injected faults have
 * them too (a browser cannot read an error without them).
 */
export function setCorsHeaders(res: ServerResponse): void {
  // `*` is what the openEO API recommends; the emulator uses Bearer tokens, never cookies.
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Expose-Headers', CORS_EXPOSED_HEADERS.join(', '));
}

/** Answers a preflight request for an endpoint implementing `methods`: 204, no body. */
export function answerPreflight(res: ServerResponse, methods: readonly HttpMethod[]): void {
  const allowed = new Set<string>(['OPTIONS', ...methods]);
  if (allowed.has('GET')) allowed.add('HEAD');
  res.writeHead(204, {
    'Access-Control-Allow-Methods': [...allowed].join(', '),
    'Access-Control-Allow-Headers': CORS_ALLOWED_HEADERS.join(', '),
    'Access-Control-Max-Age': String(PREFLIGHT_MAX_AGE_SECONDS),
    'Content-Type': 'application/json',
  });
  res.end();
}

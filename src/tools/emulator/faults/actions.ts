/**
 * How each request fault is carried out on the wire. Every function works on
 * the raw `node:http` response, because the point is to misbehave in ways a
 * well-formed response cannot: wrong lengths, resets, silence.
 */
import type { ServerResponse } from 'node:http';
import type { ErrorBody } from '../errors';
import type { OutgoingResponse, RequestHookContext, RequestHookOutcome } from '../hooks';
import type { FaultAction } from './config';

/** Default openEO error code per injected status. */
const DEFAULT_CODES: Record<number, string> = {
  429: 'TooManyRequests',
  500: 'Internal',
  503: 'InfrastructureBusy',
};

/** Gateways answer 502/504 themselves, with HTML rather than an openEO error document. */
const GATEWAY_STATUSES = new Set([502, 504]);

/** How long a reset waits after the partial body was handed to the kernel, so the client reads it first. */
const RESET_GRACE_MS = 30;

function statusResponse(action: Extract<FaultAction, { type: 'status' }>, requestId: string): OutgoingResponse {
  const headers: Record<string, string | number> = {};
  // A 429 without Retry-After tells the client nothing; a real rate limiter always sends one.
  const retryAfter = action.retryAfterSeconds ?? (action.status === 429 ? 1 : undefined);
  if (retryAfter !== undefined) headers['Retry-After'] = Math.ceil(retryAfter);
  if (GATEWAY_STATUSES.has(action.status) && action.code === undefined) {
    const html = `<html><head><title>${action.status} Gateway Error</title></head><body><h1>${action.status}</h1><p>${
      action.message ?? 'The upstream server did not answer in time.'
    }</p></body></html>`;
    return { status: action.status, headers: { ...headers, 'Content-Type': 'text/html' }, body: Buffer.from(html) };
  }
  const body: ErrorBody = {
    id: requestId,
    code: action.code ?? DEFAULT_CODES[action.status] ?? (action.status >= 500 ? 'Internal' : 'BadRequest'),
    message: action.message ?? `Injected fault: HTTP ${action.status}.`,
    links: [],
  };
  return {
    status: action.status,
    headers: { ...headers, 'Content-Type': 'application/json' },
    body: Buffer.from(JSON.stringify(body)),
  };
}

/** Writes the headers (with the full length) and a prefix of the body, then ends the connection. */
function writePartial(
  res: ServerResponse,
  response: OutgoingResponse,
  bytes: number | undefined,
  reset: boolean,
): number {
  const cut = Math.min(response.body.length, bytes ?? Math.floor(response.body.length / 2));
  res.writeHead(response.status, { ...response.headers, 'Content-Length': response.body.length });
  res.write(response.body.subarray(0, cut), () => {
    const socket = res.socket;
    if (!socket) return;
    if (reset) setTimeout(() => socket.resetAndDestroy(), RESET_GRACE_MS);
    else socket.end(); // FIN: the client sees the body end early
  });
  return cut;
}

/**
 * Carries out `action` for one request. Returns the hook outcome: `handled`
 * when the fault replaced the response, a `beforeSend` for body faults, or
 * nothing when the request should proceed (after a delay).
 */
export async function applyFault(
  action: FaultAction,
  context: Pick<RequestHookContext, 'req' | 'res' | 'requestId'>,
  recordBytes: (bytes: number) => void,
): Promise<RequestHookOutcome | undefined> {
  const { req, res } = context;
  switch (action.type) {
    case 'status': {
      const response = statusResponse(action, context.requestId);
      const body = req.method === 'HEAD' ? Buffer.alloc(0) : response.body;
      res.writeHead(response.status, { ...response.headers, 'Content-Length': response.body.length });
      res.end(body);
      recordBytes(body.length);
      return { handled: true };
    }
    case 'latency':
      await new Promise((resolve) => setTimeout(resolve, action.ms));
      return undefined;
    case 'hang':
      // Nothing is written; the socket closes when the client gives up or the emulator stops.
      return { handled: true };
    case 'reset':
      req.socket.resetAndDestroy();
      return { handled: true };
    case 'truncate':
    case 'reset-mid-body':
      return {
        // The response writer counts the returned number of body bytes.
        beforeSend: (response, raw) => writePartial(raw, response, action.bytes, action.type === 'reset-mid-body'),
      };
  }
}

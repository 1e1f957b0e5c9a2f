/**
 * Low-level HTTP helpers: reading request bodies and writing responses.
 *
 * Every response goes through {@link ResponseWriter} so that byte counting
 * and the fault-injection `beforeSend` hook see all of them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, type ErrorBody } from './errors';
import type { OutgoingResponse } from './hooks';

/** Request bodies above this size are refused; process graphs are small. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

/** Reads the whole request body, refusing oversized ones. */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return; // keep draining so the 413 response can still be delivered
      size += chunk.length;
      if (size > limit) {
        tooLarge = true;
        chunks.length = 0;
        reject(new ApiError('PayloadTooLarge', `Request body exceeds ${limit} bytes.`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Reads and parses a JSON request body; anything but a JSON object is a client error. */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = await readBody(req);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw new ApiError('RequestBodyInvalid', `Request body is not valid JSON: ${(error as Error).message}`);
  }
  if (!isPlainObject(parsed)) {
    throw new ApiError('RequestBodyInvalid', 'Request body must be a JSON object.');
  }
  return parsed;
}

/** True for non-null, non-array objects (i.e. JSON objects). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The scheme and authority clients used to reach us, for absolute URLs. */
export function requestOrigin(req: IncomingMessage, fallback: string): string {
  const host = req.headers.host;
  return host ? `http://${host}` : fallback;
}

/** Writes one response, applying the fault hook and reporting body bytes. */
export class ResponseWriter {
  private sent = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly isHead: boolean,
    private readonly onBodyBytes: (bytes: number) => void,
    private readonly beforeSend?: (response: OutgoingResponse, res: ServerResponse) => boolean | number | void,
  ) {}

  /** Whether a response was already written (handlers must not write twice). */
  get hasSent(): boolean {
    return this.sent || this.res.headersSent;
  }

  /** Sends a JSON document. */
  json(status: number, document: unknown, headers: Record<string, string | number> = {}): void {
    const body = Buffer.from(JSON.stringify(document), 'utf8');
    this.send(status, { 'Content-Type': 'application/json', ...headers }, body);
  }

  /** Sends a response without body (201/202/204). */
  empty(status: number, headers: Record<string, string | number> = {}): void {
    this.send(status, headers, Buffer.alloc(0));
  }

  /** Sends an openEO error document. */
  error(error: ApiError, requestId: string): void {
    const body: ErrorBody = { id: requestId, code: error.code, message: error.message, links: [] };
    this.json(error.status, body, error.headers);
  }

  /**
   * Sends raw bytes. `Content-Length` is always set explicitly so that a
   * later truncation fault is detectable by clients.
   */
  send(status: number, headers: Record<string, string | number>, body: Buffer): void {
    if (this.hasSent) return;
    this.sent = true;
    const noBody = status === 204 || status === 304;
    const outgoing: OutgoingResponse = {
      status,
      headers: noBody ? headers : { ...headers, 'Content-Length': body.length },
      body: this.isHead || noBody ? Buffer.alloc(0) : body,
    };
    const intercepted = this.beforeSend?.(outgoing, this.res);
    if (typeof intercepted === 'number') this.onBodyBytes(intercepted);
    if (intercepted === true || typeof intercepted === 'number') return;
    this.res.writeHead(outgoing.status, outgoing.headers);
    this.res.end(outgoing.body);
    this.onBodyBytes(outgoing.body.length);
  }
}

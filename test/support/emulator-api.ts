/**
 * Raw HTTP helpers shared by the emulator tests: calls against the versioned API, the openEO
 * error check, HTTP Basic login and a throwaway emulator per test.
 */
import assert from 'node:assert/strict';

import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/tools/emulator';

/** Result of a raw API call: status, headers and parsed JSON (if any). */
export interface ApiResponse {
  status: number;
  headers: Headers;
  // JSON documents of many shapes come back; tests narrow them with assertions.
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

/** Options of a raw API call; `token` is a Basic-auth access token, `bearer` a whole bearer token (e.g. OIDC). */
export interface ApiInit {
  method?: string;
  token?: string;
  bearer?: string;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** Calls the versioned API (or, with an absolute `path`, any URL). */
export async function api(emulator: RunningEmulator, path: string, init: ApiInit = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  if (init.token) headers.Authorization = `Bearer basic//${init.token}`;
  if (init.bearer) headers.Authorization = `Bearer ${init.bearer}`;
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  const url = /^https?:/.test(path) ? path : `${emulator.apiUrl}${path}`;
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: init.signal,
  });
  const text = await response.text();
  const body =
    text !== '' && (response.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : undefined;
  return { status: response.status, headers: response.headers, body, text };
}

/** Asserts an openEO error response: the given status, exactly the four error fields, and the given code. */
export function assertApiError(response: ApiResponse, status: number, code: string): void {
  assert.equal(response.status, status, `expected HTTP ${status}, got ${response.status}: ${response.text}`);
  assert.deepEqual(Object.keys(response.body).sort(), ['code', 'id', 'links', 'message'], response.text);
  assert.equal(response.body.code, code, response.text);
}

/** Logs in through HTTP Basic and returns the access token. */
export async function login(emulator: RunningEmulator, username = 'demo', password = 'demo-password'): Promise<string> {
  const basic = Buffer.from(`${username}:${password}`).toString('base64');
  const response = await api(emulator, '/credentials/basic', { headers: { Authorization: `Basic ${basic}` } });
  assert.equal(response.status, 200, response.text);
  assert.equal(typeof response.body.access_token, 'string');
  return response.body.access_token as string;
}

/** Runs `body` against a fresh emulator started with `options`, and closes it afterwards. */
export async function withEmulator(
  options: EmulatorOptions,
  body: (emulator: RunningEmulator) => Promise<void>,
): Promise<void> {
  const emulator = await startEmulator(options);
  try {
    await body(emulator);
  } finally {
    await emulator.close();
  }
}

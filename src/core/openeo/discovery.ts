/**
 * openEO version discovery, done here rather than by the js-client: when `/.well-known/openeo`
 * fails, the js-client quietly assumes the given URL is the versioned API, which for a busy
 * backend (a 503 on that document) yields a connection to the wrong base URL. Here a transient
 * failure is an error (retried by the activity); only a missing document (404) means the URL
 * itself is the versioned API.
 */
import { httpJson, isHttpStatus } from '../http/request';
import { leaseForRequest } from './request-gate';

interface WellKnownVersion {
  url: string;
  api_version: string;
  production?: boolean;
}

/** The API versions this project speaks: 1.x, newest first. */
function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pb[i] ?? 0) - (pa[i] ?? 0);
  return 0;
}

/**
 * A well-known document that lists no version we speak (HTTP trouble is an `HttpError`). Its
 * `response` makes `describeFailure` call it a 400: a problem retrying cannot fix.
 */
export class DiscoveryError extends Error {
  constructor(
    message: string,
    readonly response?: { status: number; headers: Record<string, string> },
  ) {
    super(message);
    this.name = 'DiscoveryError';
  }
}

/** The versioned API URL of a backend: the newest production 1.x version its well-known document lists. */
export async function discoverVersionedUrl(url: string, timeoutMs: number): Promise<string> {
  const wellKnown = `${url.replace(/\/+$/, '')}/.well-known/openeo`;
  const lease = await leaseForRequest('GET', wellKnown);
  let document: { versions?: WellKnownVersion[] };
  try {
    document = await httpJson(wellKnown, { timeoutMs });
  } catch (err) {
    // No well-known document: the URL is the versioned API itself.
    if (isHttpStatus(err, 404)) return url;
    throw err;
  } finally {
    await lease?.release();
  }
  return newestVersionUrl(wellKnown, document);
}

function newestVersionUrl(wellKnown: string, document: { versions?: WellKnownVersion[] }): string {
  const versions = (document.versions ?? [])
    .filter((v) => /^1\./.test(v.api_version) && v.production !== false)
    .sort((a, b) => compareVersions(a.api_version, b.api_version));
  if (versions.length === 0)
    throw new DiscoveryError(`${wellKnown} lists no production openEO API 1.x version`, { status: 400, headers: {} });
  return versions[0].url;
}

/**
 * Result endpoints: the STAC document of a job's results and the download
 * of its assets through signed URLs (with HEAD and single byte-range support).
 */
import { createHash } from 'node:crypto';
import { API_PREFIX } from './constants';
import type { EmulatorCore } from './context';
import { ApiError, jobNotFound } from './errors';
import { resultCollection, resultItem } from './stac';
import type { Route, RouteContext } from './router';

/** A byte range to serve, inclusive on both ends. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Parses a `Range` header for a resource of `size` bytes.
 * Returns `null` to serve the whole resource (no header, or a form we
 * choose to ignore such as multiple ranges — allowed by RFC 9110), or
 * `'unsatisfiable'` for a syntactically valid range outside the resource.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  if (!header) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return null;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

function resultsHandler(core: EmulatorCore, context: RouteContext): void {
  const job = core.store.getOwned(context.params.job_id, context.user ?? '');
  if (job.status === 'error' && core.settings.failedJobResults === 'spec') {
    const entry = job.log.lastError() ?? {
      id: '0',
      level: 'error',
      code: 'Internal',
      message: 'The batch job failed.',
      links: [],
    };
    context.writer.json(424, entry);
    return;
  }
  const partial = ['true', '1', ''].includes(context.url.searchParams.get('partial') ?? 'false');
  // CDSE answers a failed job like an unfinished one; partial results never exist for it.
  if (job.status !== 'finished' && (!partial || job.status === 'error')) {
    throw new ApiError(
      'JobNotFinished',
      `Batch job '${job.id}' is '${job.status}'; results exist once it is finished.`,
    );
  }
  const selfUrl = `${context.origin}${API_PREFIX}/jobs/${encodeURIComponent(job.id)}/results`;
  const assetOrigin = core.assetOrigin(context.origin);
  const sign = (key: string) => core.signer.signedUrl(assetOrigin, job.id, key);
  const collection = core.settings.resultsMode === 'collection';
  const document = collection ? resultCollection(job, selfUrl, sign) : resultItem(job, selfUrl, sign);
  context.writer.json(200, document, {
    'Content-Type': collection ? 'application/json' : 'application/geo+json',
    // Downloads are included in the job's costs (see the estimate), so they cost the owner nothing more.
    'OpenEO-Costs': 0,
  });
}

async function assetHandler(core: EmulatorCore, context: RouteContext, requireToken: boolean): Promise<void> {
  const { job_id: jobId, asset_key: assetKey } = context.params;
  const check = core.signer.verify(
    jobId,
    assetKey,
    context.url.searchParams.get('expires'),
    context.url.searchParams.get('signature'),
  );
  if (check === 'invalid') throw new ApiError('ResultLinkInvalid', 'The signature of this result link is not valid.');
  if (check === 'expired') {
    throw new ApiError(
      'ResultLinkExpired',
      'This result link has expired; request the job results again for a new one.',
    );
  }
  const job = core.store.find(jobId);
  if (!job) throw jobNotFound(jobId);
  if (requireToken) {
    const user = await core.auth.authenticate(context.req.headers.authorization);
    if (user !== job.owner) throw jobNotFound(jobId);
  }
  if (job.status !== 'finished' || !job.result) {
    throw new ApiError('JobNotFinished', `Batch job '${jobId}' has no results at the moment (status '${job.status}').`);
  }
  const asset = job.result.assets[assetKey];
  if (!asset) throw new ApiError('NotFound', `Batch job '${jobId}' has no asset '${assetKey}'.`);

  const size = asset.bytes.length;
  const headers: Record<string, string | number> = {
    'Content-Type': asset.type,
    'Accept-Ranges': 'bytes',
    ETag: `"${createHash('sha256').update(asset.bytes).digest('hex').slice(0, 32)}"`,
    'Last-Modified': new Date(job.result.generatedAt).toUTCString(),
    'Content-Disposition': `attachment; filename="${assetKey.replace(/"/g, '')}"`,
  };
  const range = parseRange(context.req.headers.range, size);
  if (range === 'unsatisfiable') {
    throw new ApiError('RangeNotSatisfiable', `Requested range is outside the ${size} bytes of the asset.`, {
      'Content-Range': `bytes */${size}`,
    });
  }
  if (range === null) {
    context.writer.send(200, headers, asset.bytes);
    return;
  }
  headers['Content-Range'] = `bytes ${range.start}-${range.end}/${size}`;
  context.writer.send(206, headers, asset.bytes.subarray(range.start, range.end + 1));
}

/** Path template of asset downloads (kept in sync with `assetPath` in signing.ts). */
export const ASSET_ROUTE_PATH = `${API_PREFIX}/jobs/{job_id}/results/assets/{asset_key}`;

/**
 * The asset download route alone, mounted on the API server (`assetOrigin`
 * `same`) or on the separate asset server, which never checks tokens.
 */
export function assetRoute(core: EmulatorCore, requireToken: boolean): Route {
  return {
    method: 'GET',
    path: ASSET_ROUTE_PATH,
    auth: false, // the signature authorizes; `requireToken` adds a Bearer check inside
    listed: false, // not an openEO endpoint: links are only obtained from the results document
    handler: (context) => assetHandler(core, context, requireToken),
  };
}

/** Routes of this module on the API server. */
export function resultRoutes(core: EmulatorCore): Route[] {
  const routes: Route[] = [
    {
      method: 'GET',
      path: `${API_PREFIX}/jobs/{job_id}/results`,
      auth: true,
      listed: true,
      handler: (context) => resultsHandler(core, context),
    },
  ];
  // With a separate asset origin the API server serves no files, as a back-end that uses object storage.
  if (core.settings.assetOrigin === 'same') routes.push(assetRoute(core, core.settings.assetsRequireToken));
  return routes;
}

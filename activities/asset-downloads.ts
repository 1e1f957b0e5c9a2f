/**
 * One asset of a finished job, brought to disk or failed with a reason: a signed link that was
 * refused is renewed once from a fresh results document, a file whose checksum is wrong is
 * downloaded again a few times, trouble that may pass is left to the activity's retries, and
 * everything else fails the tile at once.
 */
import { ApplicationFailure } from '@temporalio/common';
import { classifiedFailure } from './failures';
import { classifyDownload, DownloadError, type DownloadVerdict } from './download-errors';
import { downloadAsset, type DownloadOptions } from './download';

/** Full downloads whose bytes are wrong before the asset is called broken. */
export const MAX_FULL_DOWNLOADS = 3;

export interface AssetToFetch {
  key: string;
  href: string;
  target: string;
  expect: Pick<DownloadOptions, 'size' | 'checksum'>;
}

export interface AssetFetchContext {
  jobId: string;
  idleTimeoutMs: number;
  /** Headers for a download from this URL (the token only on the backend's own origin). */
  headersFor(url: string): Promise<Record<string, string>>;
  /** The asset's link in a freshly fetched results document (also drops a refused token). */
  renewLink(key: string, refused: string): Promise<string | undefined>;
  onProgress(key: string, bytes: number): void;
}

/** The URL without query (signatures, tokens), fragment or user info: safe to show and keep. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(an invalid URL)';
  }
}

/** The failure the activity ends with: retried by Temporal only when retrying can help. */
function assetFailure(
  asset: AssetToFetch,
  href: string,
  ctx: AssetFetchContext,
  err: unknown,
  verdict: DownloadVerdict,
  code: string,
): ApplicationFailure {
  const reason = err instanceof Error ? err.message : String(err);
  const download = err instanceof DownloadError ? err : undefined;
  return classifiedFailure({
    message: `could not download asset "${asset.key}" of job ${ctx.jobId} from ${redactUrl(href)}: ${reason}`,
    type: code,
    details: [{ asset: asset.key, url: redactUrl(href), status: download?.status ?? null }],
    retryable: verdict === 'retry',
    retryAfterSeconds: download?.retryAfterSeconds,
  });
}

/** Downloads one asset, verified; returns its size in bytes. */
export async function fetchAsset(asset: AssetToFetch, ctx: AssetFetchContext): Promise<number> {
  let href = asset.href;
  let renewed = false;
  let wrongBytes = 0;
  for (;;) {
    try {
      return await downloadAsset(href, asset.target, {
        ...asset.expect,
        headers: await ctx.headersFor(href),
        idleTimeoutMs: ctx.idleTimeoutMs,
        onProgress: (bytes) => ctx.onProgress(asset.key, bytes),
      });
    } catch (err) {
      const { verdict, code } = classifyDownload(err);
      if (verdict === 'download-again' && ++wrongBytes < MAX_FULL_DOWNLOADS) continue;
      if (verdict === 'renew-link' && !renewed) {
        renewed = true;
        const fresh = await ctx.renewLink(asset.key, href);
        if (fresh === undefined) {
          throw ApplicationFailure.nonRetryable(
            `asset "${asset.key}" of job ${ctx.jobId} is no longer in the job's results document (its link ${redactUrl(href)} was refused)`,
            'AssetNotFound',
          );
        }
        href = fresh;
        continue;
      }
      const final = verdict === 'download-again' ? `${code} after ${wrongBytes} full downloads` : undefined;
      throw assetFailure(
        asset,
        href,
        ctx,
        final ? new DownloadError(code, `${(err as Error).message} (${final})`) : err,
        verdict,
        code,
      );
    }
  }
}

/**
 * Signed result asset URLs: the link itself carries an expiry time and an
 * HMAC over (job, asset, expiry), so downloads need no Authorization header.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { API_PREFIX } from './constants';

/** Outcome of checking a signed link. */
export type SignatureCheck = 'valid' | 'invalid' | 'expired';

/** Path (without origin) of an asset download, before signing. */
export function assetPath(jobId: string, assetKey: string): string {
  return `${API_PREFIX}/jobs/${encodeURIComponent(jobId)}/results/assets/${encodeURIComponent(assetKey)}`;
}

/** Creates and verifies signed asset links. */
export class AssetUrlSigner {
  constructor(
    private readonly secret: string,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  private signature(jobId: string, assetKey: string, expires: string): string {
    return createHmac('sha256', this.secret).update(`${jobId}\n${assetKey}\n${expires}`).digest('hex');
  }

  /**
   * Absolute signed URL of an asset. `origin` is a parameter (not fixed) so
   * assets can later be served from a second origin.
   * `expires` is in epoch milliseconds so short test TTLs work.
   */
  signedUrl(origin: string, jobId: string, assetKey: string): { href: string; expiresAt: number } {
    const expiresAt = this.now() + this.ttlMs;
    const expires = String(expiresAt);
    const url = new URL(assetPath(jobId, assetKey), origin);
    url.searchParams.set('expires', expires);
    url.searchParams.set('signature', this.signature(jobId, assetKey, expires));
    return { href: url.toString(), expiresAt };
  }

  /** Checks the signature first, so a forged expiry can't turn a bad link into "expired". */
  verify(jobId: string, assetKey: string, expires: string | null, signature: string | null): SignatureCheck {
    if (!expires || !signature || !/^\d+$/.test(expires) || !/^[0-9a-f]{64}$/.test(signature)) return 'invalid';
    const expected = Buffer.from(this.signature(jobId, assetKey, expires), 'hex');
    if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) return 'invalid';
    return this.now() >= Number(expires) ? 'expired' : 'valid';
  }
}

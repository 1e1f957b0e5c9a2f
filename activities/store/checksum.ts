/**
 * File verification shared by downloads and the result store: the size and `file:checksum`
 * (a multihash, hex) a STAC asset promises.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

/** What a STAC asset tells us about the file to expect. */
export interface AssetExpectation {
  size?: number;
  /** Multihash, hex: `1220…` is SHA-256, `1340…` SHA-512, `d510…` MD5. */
  checksum?: string;
}

const MULTIHASH_ALGORITHMS: Record<string, string> = { '12': 'sha256', '13': 'sha512', d5: 'md5' };

/** A running hash for `checksum` and the digest it must end with; undefined when it cannot be checked. */
export function checksumHash(checksum: string | undefined): { hash: Hash; expected: string } | undefined {
  if (!checksum) return undefined;
  const algorithm = MULTIHASH_ALGORITHMS[checksum.slice(0, 2).toLowerCase()];
  // Unknown multihash codes cannot be checked; the size check still applies.
  if (!algorithm) return undefined;
  return { hash: createHash(algorithm), expected: checksum.slice(4).toLowerCase() };
}

/** Size of a local file, 0 when it is missing. */
export async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

/** Feeds the whole file into `hash`. */
export async function hashFile(path: string, hash: Hash | undefined): Promise<void> {
  if (!hash) return;
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}

/**
 * True when the local file at `path` is the expected one (a finished earlier attempt). Without an
 * expected size nothing can be known: false, so the file is fetched again.
 */
export async function fileMatches(path: string, expect: AssetExpectation): Promise<boolean> {
  const size = await sizeOf(path);
  if (size === 0 || expect.size === undefined || size !== expect.size) return false;
  const check = checksumHash(expect.checksum);
  if (!check) return true;
  await hashFile(path, check.hash);
  return check.hash.digest('hex') === check.expected;
}

/**
 * File verification shared by downloads and the result store: the size and `file:checksum` a
 * STAC asset promises. The checksum is a multihash in hex: the hash function's code and the
 * digest's length, both unsigned varints, then the digest. MD5 (code 0xd5) is `d50110…`, since
 * 0xd5 takes two varint bytes. Multihashes are parsed with the multiformats library.
 *
 * A checksum that cannot be parsed, or whose hash function Node cannot compute, cannot be
 * checked: the file is kept on its size alone, and {@link uncheckedReason} says why, so the
 * tile's record can tell.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

/** What a STAC asset tells us about the file to expect. */
export interface AssetExpectation {
  size?: number;
  /** Multihash, hex: `1220…` is SHA-256, `1340…` SHA-512, `d50110…` MD5. */
  checksum?: string;
}

/** Multihash codes (from the multicodec table) of the hash functions Node computes, with Node's names. */
const NODE_ALGORITHMS: ReadonlyMap<number, string> = new Map([
  [0xd5, 'md5'],
  [0x11, 'sha1'],
  [0x12, 'sha256'],
  [0x13, 'sha512'],
  [0x20, 'sha384'],
  [0x1013, 'sha224'],
  [0x1014, 'sha512-224'],
  [0x1015, 'sha512-256'],
  [0x17, 'sha3-224'],
  [0x16, 'sha3-256'],
  [0x15, 'sha3-384'],
  [0x14, 'sha3-512'],
  [0xb240, 'blake2b512'],
  [0xb260, 'blake2s256'],
]);

/** A checksum as this worker can use it: the algorithm and digest (hex), or why it cannot be checked. */
export type ParsedChecksum = { algorithm: string; expected: string } | { unchecked: string };

/** A value for messages: quoted, and cut short, since a catalogue may publish anything. */
function shown(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
}

/** Bytes of a digest of `algorithm`. */
function digestLength(algorithm: string): number {
  return createHash(algorithm).digest().length;
}

/** Reads a `file:checksum`; never throws, since a bad value must not fail a tile. */
export async function parseChecksum(checksum: unknown): Promise<ParsedChecksum> {
  if (typeof checksum !== 'string' || !/^(?:[0-9a-f]{2})+$/i.test(checksum)) {
    return {
      unchecked: `file:checksum ${typeof checksum === 'string' ? shown(checksum) : `of type ${typeof checksum}`} is not a multihash in hex`,
    };
  }
  // multiformats is published as ES modules only: loaded with import(), which Node caches.
  const { decode } = await import('multiformats/hashes/digest');
  let code: number;
  let digest: Uint8Array;
  try {
    ({ code, digest } = decode(Buffer.from(checksum, 'hex')));
  } catch (err) {
    return { unchecked: `file:checksum ${shown(checksum)} is not a valid multihash (${(err as Error).message})` };
  }
  const algorithm = NODE_ALGORITHMS.get(code);
  if (algorithm === undefined)
    return {
      unchecked: `file:checksum ${shown(checksum)} names hash function 0x${code.toString(16)}, which this worker cannot compute`,
    };
  // A shorter digest is a truncated one, which checks little; a longer one is wrong.
  if (digest.length !== digestLength(algorithm)) {
    return {
      unchecked: `file:checksum ${shown(checksum)} holds a ${digest.length}-byte ${algorithm} digest; ${algorithm} digests have ${digestLength(algorithm)} bytes`,
    };
  }
  return { algorithm, expected: Buffer.from(digest).toString('hex') };
}

/** Why `checksum` cannot be checked; undefined when it can, or when there is none. */
export async function uncheckedReason(checksum: unknown): Promise<string | undefined> {
  if (checksum === undefined || checksum === null) return undefined;
  const parsed = await parseChecksum(checksum);
  return 'unchecked' in parsed ? parsed.unchecked : undefined;
}

/**
 * A running hash for `checksum` and the digest it must end with; undefined when there is none or
 * it cannot be checked (then only the size is).
 */
export async function checksumHash(
  checksum: string | undefined,
): Promise<{ hash: Hash; expected: string } | undefined> {
  if (checksum === undefined || checksum === null) return undefined;
  const parsed = await parseChecksum(checksum);
  return 'unchecked' in parsed ? undefined : { hash: createHash(parsed.algorithm), expected: parsed.expected };
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
  const check = await checksumHash(expect.checksum);
  if (!check) return true;
  await hashFile(path, check.hash);
  return check.hash.digest('hex') === check.expected;
}

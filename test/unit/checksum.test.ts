/**
 * `file:checksum` multihashes checked against real files on disk, no server: every hash function
 * Node computes, with its varint code (MD5's 0xd5 takes two bytes), a wrong digest refused, and
 * values that cannot be checked (malformed, or a function the worker lacks) kept on their size
 * with the reason.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileMatches, parseChecksum, uncheckedReason } from '../../activities/store/checksum';
import { verifyFile } from '../../activities/store/local';
import { StoreError } from '../../activities/store';

const content = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256));

/** Hex digest of the file's bytes with Node's `algorithm`. */
const digestOf = (algorithm: string) => createHash(algorithm).update(content).digest('hex');

/**
 * A multihash written out by hand, so the test does not share the code under test: the code's
 * varint bytes (from the multicodec table), the length byte, the digest.
 */
function multihash(codeVarint: string, algorithm: string): string {
  const digest = digestOf(algorithm);
  return `${codeVarint}${(digest.length / 2).toString(16).padStart(2, '0')}${digest}`;
}

/** Every hash function Node computes: its code as varint hex, and Node's name for it. */
const ALGORITHMS: [name: string, codeVarint: string, node: string][] = [
  ['md5 (0xd5)', 'd501', 'md5'],
  ['sha1 (0x11)', '11', 'sha1'],
  ['sha2-256 (0x12)', '12', 'sha256'],
  ['sha2-512 (0x13)', '13', 'sha512'],
  ['sha2-384 (0x20)', '20', 'sha384'],
  ['sha2-224 (0x1013)', '9320', 'sha224'],
  ['sha2-512-224 (0x1014)', '9420', 'sha512-224'],
  ['sha2-512-256 (0x1015)', '9520', 'sha512-256'],
  ['sha3-224 (0x17)', '17', 'sha3-224'],
  ['sha3-256 (0x16)', '16', 'sha3-256'],
  ['sha3-384 (0x15)', '15', 'sha3-384'],
  ['sha3-512 (0x14)', '14', 'sha3-512'],
  ['blake2b-512 (0xb240)', 'c0e402', 'blake2b512'],
  ['blake2s-256 (0xb260)', 'e0e402', 'blake2s256'],
];

/** The same multihash with its last digest byte changed. */
function wrongDigest(checksum: string): string {
  const last = checksum.slice(-2);
  return `${checksum.slice(0, -2)}${last === '00' ? '01' : '00'}`;
}

describe('file:checksum against real files', () => {
  let dir: string;
  let file: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'openeo-temporal-checksum-'));
    file = join(dir, 'result.tif');
    await writeFile(file, content);
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('writes MD5 as d50110 and the digest, and the file matches it', async () => {
    const md5 = `d50110${digestOf('md5')}`;
    assert.equal(md5, multihash('d501', 'md5'));
    assert.deepEqual(await parseChecksum(md5), { algorithm: 'md5', expected: digestOf('md5') });
    assert.equal(await fileMatches(file, { size: content.length, checksum: md5 }), true);
    assert.equal(
      await fileMatches(file, { size: content.length, checksum: md5.toUpperCase() }),
      true,
      'hex in capitals is the same multihash',
    );
    assert.equal(await verifyFile(file, { size: content.length, checksum: md5 }), content.length);
  });

  for (const [name, codeVarint, node] of ALGORITHMS) {
    it(`checks ${name}: the right digest matches, a wrong one does not`, async () => {
      const checksum = multihash(codeVarint, node);
      assert.equal(await uncheckedReason(checksum), undefined, 'the worker can check it');
      assert.equal(await fileMatches(file, { size: content.length, checksum }), true);
      assert.equal(await fileMatches(file, { size: content.length, checksum: wrongDigest(checksum) }), false);
      await assert.rejects(
        verifyFile(file, { size: content.length, checksum: wrongDigest(checksum) }),
        (err: unknown) => {
          assert.ok(err instanceof StoreError);
          assert.equal(err.code, 'ChecksumMismatch');
          return true;
        },
      );
    });
  }

  const md5Text = digestOf('md5');
  const malformed: [what: string, checksum: string, reason: RegExp][] = [
    [
      'd510 and the hex of the ASCII digest (published catalogues)',
      `d510${Buffer.from(md5Text, 'ascii').toString('hex')}`,
      /is not a valid multihash/,
    ],
    ['d510 and the MD5 digest (the code written as one byte)', `d510${md5Text}`, /is not a valid multihash/],
    ['"unknown"', 'unknown', /"unknown" is not a multihash in hex/],
    ['an odd number of hex digits', `1220${digestOf('sha256')}0`, /is not a multihash in hex/],
    ['a SHA-256 multihash cut short', `1220${digestOf('sha256')}`.slice(0, 40), /is not a valid multihash/],
    ['a code cut in the middle of its varint', 'd5', /is not a valid multihash/],
    ['an empty string', '', /is not a multihash in hex/],
    [
      'a digest shorter than the function gives',
      `1210${digestOf('sha256').slice(0, 32)}`,
      /16-byte sha256 digest; sha256 digests have 32 bytes/,
    ],
    [
      'a hash function Node lacks (blake3, 0x1e)',
      `1e20${digestOf('sha256')}`,
      /names hash function 0x1e, which this worker cannot compute/,
    ],
  ];
  for (const [what, checksum, reason] of malformed) {
    it(`cannot check ${what}: says why, and checks the size alone`, async () => {
      assert.match((await uncheckedReason(checksum)) ?? '(none)', reason);
      assert.equal(
        await fileMatches(file, { size: content.length, checksum }),
        true,
        'the file of the promised size is kept',
      );
      assert.equal(
        await fileMatches(file, { size: content.length + 1, checksum }),
        false,
        'a file of another size is not',
      );
      assert.equal(await verifyFile(file, { size: content.length, checksum }), content.length);
      await assert.rejects(
        verifyFile(file, { size: content.length - 1, checksum }),
        (err: unknown) => err instanceof StoreError && err.code === 'SizeMismatch',
      );
    });
  }

  it('has nothing to say about an asset without a checksum', async () => {
    assert.equal(await uncheckedReason(undefined), undefined);
    assert.equal(await fileMatches(file, { size: content.length }), true);
  });
});

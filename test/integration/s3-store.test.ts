/**
 * The result store on a real S3-compatible server (SeaweedFS, started here): verified puts and
 * reads, a wrong checksum that leaves nothing under the key, an interrupted multipart upload
 * resumed into exactly one complete object, and the preflight check of a bucket.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer, text } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import {
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { resultStore, s3ClientConfig, StoreError } from '../../activities/store';
import { PART_SIZE } from '../../activities/store/s3-multipart';
import { s3Unavailable, startS3Server, type S3Server } from '../harness/s3-server';

const sha256 = (bytes: Buffer) => `1220${createHash('sha256').update(bytes).digest('hex')}`;

describe('result store on S3 (SeaweedFS)', { skip: s3Unavailable() }, () => {
  let server: S3Server;
  let client: S3Client;
  let dir: string;
  const big = randomBytes(2 * PART_SIZE + 12_345);
  let bigFile: string;
  const store = (prefix = 'runs') => resultStore(`s3://${server.bucket}/${prefix}`, server.env);
  const pendingUploads = async (key: string) =>
    ((await client.send(new ListMultipartUploadsCommand({ Bucket: server.bucket, Prefix: key }))).Uploads ?? []).filter(
      (u) => u.Key === key,
    );

  before(async () => {
    server = await startS3Server();
    client = new S3Client(s3ClientConfig(server.env));
    dir = await mkdtemp(join(tmpdir(), 'openeo-temporal-s3-store-'));
    bigFile = join(dir, 'big.tif');
    await writeFile(bigFile, big);
  });
  after(async () => {
    client?.destroy();
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('stores a document and reads it back, under s3://bucket/prefix/key', async () => {
    const s = store();
    await s.put('b1/t1/job.json', '{"ok":true}\n', { contentType: 'application/json' });
    assert.equal(s.location('b1/t1/job.json'), `s3://${server.bucket}/runs/b1/t1/job.json`);
    assert.deepEqual(await s.head('b1/t1/job.json'), { size: 12 });
    assert.equal(await text((await s.get('b1/t1/job.json'))!.body), '{"ok":true}\n');
    assert.deepEqual(await s.list('b1/'), ['b1/t1/job.json']);
    assert.equal(await s.get('b1/t1/missing.json'), undefined);
  });

  it('uploads a large file in parts, verified, and knows it holds it afterwards', async () => {
    const s = store();
    const expect = { size: big.length, checksum: sha256(big) };
    assert.equal(await s.holds('b1/t1/big.tif', expect), false);
    const progress: number[] = [];
    assert.deepEqual(await s.putFile('b1/t1/big.tif', bigFile, { ...expect, onProgress: (n) => progress.push(n) }), {
      size: big.length,
    });
    assert.deepEqual(progress, [PART_SIZE, 2 * PART_SIZE, big.length]);
    assert.ok((await buffer((await s.get('b1/t1/big.tif'))!.body)).equals(big));
    assert.equal(await s.holds('b1/t1/big.tif', expect), true);
    // Another checksum than the one verified is not taken on trust.
    assert.equal(await s.holds('b1/t1/big.tif', { size: big.length, checksum: sha256(Buffer.from('other')) }), false);
  });

  it('leaves no object and no pending upload under the key when the checksum does not match', async () => {
    const s = store();
    const wrong = sha256(Buffer.from('something else'));
    for (const [key, file] of [
      ['b1/t2/big.tif', bigFile],
      ['b1/t2/small.json', join(dir, 'small.json')],
    ] as const) {
      await writeFile(join(dir, 'small.json'), '{}');
      await assert.rejects(
        s.putFile(key, file, { checksum: wrong }),
        (err: unknown) => err instanceof StoreError && err.code === 'ChecksumMismatch',
      );
      assert.equal(await s.head(key), undefined, key);
      assert.deepEqual(await pendingUploads(`runs/${key}`), [], key);
    }
  });

  it('resumes an interrupted multipart upload: one complete, correct object, no stale uploads', async () => {
    const s = store();
    const key = 'runs/b1/t3/big.tif';
    // A crashed attempt: its upload holds the right first part and a wrong second part; an
    // older attempt left another upload with nothing in it.
    await client.send(new CreateMultipartUploadCommand({ Bucket: server.bucket, Key: key }));
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: server.bucket, Key: key }));
    await client.send(
      new UploadPartCommand({
        Bucket: server.bucket,
        Key: key,
        UploadId,
        PartNumber: 1,
        Body: big.subarray(0, PART_SIZE),
      }),
    );
    await client.send(
      new UploadPartCommand({
        Bucket: server.bucket,
        Key: key,
        UploadId,
        PartNumber: 2,
        Body: Buffer.alloc(PART_SIZE, 1),
      }),
    );
    assert.equal((await pendingUploads(key)).length, 2);

    await s.putFile('b1/t3/big.tif', bigFile, { size: big.length, checksum: sha256(big) });
    assert.deepEqual(await pendingUploads(key), []);
    const stored = await client.send(new GetObjectCommand({ Bucket: server.bucket, Key: key }));
    assert.ok((await buffer(stored.Body as NodeJS.ReadableStream)).equals(big));
    assert.deepEqual(await s.list('b1/t3/'), ['b1/t3/big.tif']);
  });

  it('passes the preflight check on a writable bucket, leaving nothing behind', async () => {
    await store('checked').check();
    assert.deepEqual(await store('checked').list(''), []);
  });

  it('fails the preflight check for a missing bucket or wrong credentials, saying where', async () => {
    await assert.rejects(
      resultStore('s3://no-such-bucket/x', server.env).check(),
      (err: unknown) =>
        err instanceof StoreError && err.code === 'Unreachable' && /s3:\/\/no-such-bucket\/x/.test(err.message),
    );
    const wrongKeys = { ...server.env, AWS_SECRET_ACCESS_KEY: 'wrong' };
    await assert.rejects(
      resultStore(`s3://${server.bucket}/x`, wrongKeys).check(),
      (err: unknown) => err instanceof StoreError && err.code === 'Unreachable',
    );
  });
});

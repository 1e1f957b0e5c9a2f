/**
 * The result store in S3-compatible object storage: `s3://bucket/prefix/<key>`, shared by every
 * worker on every machine. Credentials, region and endpoint come from the worker's standard AWS
 * variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT_URL_S3`
 * or `AWS_ENDPOINT_URL`), never from the spec, so they never enter workflow history.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { CHECKSUM_METADATA, putWhole, uploadFile, type UploadTarget } from './s3-multipart';
import { uncheckedReason } from './checksum';
import { checkKey, StoreError, type ResultStore } from './types';

/** How the worker talks to object storage, read from its environment. */
export function s3ClientConfig(env: NodeJS.ProcessEnv = process.env): S3ClientConfig {
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
  // Servers other than AWS (SeaweedFS, Ceph, …) seldom have a DNS name per bucket: address
  // buckets by path there, unless AWS_S3_FORCE_PATH_STYLE says otherwise.
  const pathStyle = env.AWS_S3_FORCE_PATH_STYLE ? env.AWS_S3_FORCE_PATH_STYLE === 'true' : endpoint !== undefined;
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || (endpoint ? 'us-east-1' : undefined);
  // Keys in these variables are used as they are; without them the SDK's own chain (profiles,
  // instance roles, …) finds the credentials.
  const credentials =
    env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          accessKeyId: env.AWS_ACCESS_KEY_ID,
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
          ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
        }
      : undefined;
  return {
    ...(endpoint ? { endpoint } : {}),
    ...(region ? { region } : {}),
    ...(credentials ? { credentials } : {}),
    forcePathStyle: pathStyle,
    // The SDK's default CRC32 checksums on every request (sent as aws-chunked trailers) are not
    // understood by every S3-compatible server; we send Content-MD5 on each PUT and verify the
    // file:checksum ourselves, so the SDK adds checksums only where the API requires them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}

/** The folder on this worker where files wait before they are uploaded (stable across retries). */
export function stagingRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env.OPENEO_TEMPORAL_STAGING_DIR || join(tmpdir(), 'openeo-temporal-staging');
}

const clients = new Map<string, S3Client>();

/** One client per configuration, shared by every store of this process. */
function clientFor(config: S3ClientConfig): S3Client {
  const id = JSON.stringify(config);
  let client = clients.get(id);
  if (!client) clients.set(id, (client = new S3Client(config)));
  return client;
}

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.$metadata?.httpStatusCode === 404;
}

function describe(err: unknown): string {
  const e = err as { name?: string; message?: string };
  return `${e?.name ?? 'Error'}: ${e?.message || 'no message'}`;
}

export function s3Store(bucket: string, prefix: string, env: NodeJS.ProcessEnv = process.env): ResultStore {
  const client = clientFor(s3ClientConfig(env));
  const objectKey = (key: string) => (prefix ? `${prefix}/${checkKey(key)}` : checkKey(key));
  const target = (key: string): UploadTarget => ({ client, bucket, key: objectKey(key) });
  const root = `s3://${bucket}${prefix ? `/${prefix}` : ''}`;
  const head = async (key: string) => {
    try {
      return await client.send(new HeadObjectCommand({ Bucket: bucket, Key: objectKey(key) }));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  return {
    root,
    remote: true,
    location: (key) => `s3://${bucket}/${objectKey(key)}`,
    stagingPath: (key) => join(stagingRoot(env), bucket, ...objectKey(key).split('/')),
    async put(key, body, options = {}) {
      return { size: await putWhole(target(key), Buffer.from(body), options) };
    },
    async putFile(key, path, options = {}) {
      return { size: await uploadFile(target(key), path, options) };
    },
    async holds(key, expect) {
      const found = await head(key);
      if (!found || expect.size === undefined || found.ContentLength !== expect.size) return false;
      // Only a checksum this store verified before storing the object counts; one that cannot
      // be checked was never recorded, so the size alone decides.
      if (expect.checksum === undefined || (await uncheckedReason(expect.checksum)) !== undefined) return true;
      return found.Metadata?.[CHECKSUM_METADATA] === expect.checksum.toLowerCase();
    },
    async head(key) {
      const found = await head(key);
      return found ? { size: found.ContentLength ?? 0 } : undefined;
    },
    async get(key) {
      try {
        const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: objectKey(key) }));
        return { body: answer.Body as Readable, size: answer.ContentLength ?? 0 };
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },
    async list(under) {
      const start = prefix ? `${prefix}/` : '';
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: start + under, ContinuationToken: token }),
        );
        for (const item of page.Contents ?? []) if (item.Key) keys.push(item.Key.slice(start.length));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys.sort();
    },
    async remove(key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: objectKey(key) }));
    },
    async check() {
      const probe = `.openeo-temporal-check-${process.pid}-${Date.now()}`;
      const signal = AbortSignal.timeout(30_000);
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: signal });
        await client
          .send(new DeleteObjectCommand({ Bucket: bucket, Key: objectKey(probe) }), { abortSignal: signal })
          .catch(() => undefined);
        await putWhole(target(probe), Buffer.from('ok'), {});
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: objectKey(probe) }), { abortSignal: signal });
      } catch (err) {
        throw new StoreError('Unreachable', `this worker cannot write to ${root}: ${describe(err)}`, { cause: err });
      }
    },
  };
}

/** Removes the staging copy of `key` once it is stored (a local store has none). */
export async function releaseStaged(store: ResultStore, key: string): Promise<void> {
  if (store.remote) await rm(store.stagingPath(key), { force: true });
}

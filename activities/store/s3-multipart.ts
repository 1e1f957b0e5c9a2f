/**
 * A verified, resumable upload of one local file to object storage. Small files are one
 * `PutObject`; larger ones a multipart upload, which S3 keeps invisible until it is completed.
 * The bytes sent are hashed on the way and checked against the expected size and `file:checksum`
 * before `CompleteMultipartUpload`; a mismatch aborts the upload, so nothing appears under the
 * key. An upload left by a crashed attempt is found again (`ListMultipartUploads`): parts it
 * already holds with the same MD5 are kept, the rest are sent, other stale uploads are aborted.
 */
import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { checksumHash } from './checksum';
import { StoreError, type PutOptions } from './types';

/** Bytes per part (S3 wants at least 5 MiB for all but the last); also the single-PUT limit. */
export const PART_SIZE = 8 * 1024 * 1024;

/** The object metadata that records the `file:checksum` an object was verified against. */
export const CHECKSUM_METADATA = 'file-checksum';

export interface UploadTarget {
  client: S3Client;
  bucket: string;
  key: string;
}

const md5 = (bytes: Buffer) => createHash('md5').update(bytes);
const unquote = (etag: string | undefined) => (etag ?? '').replace(/"/g, '').toLowerCase();

/**
 * The metadata of an object stored from `options`: the checksum only when it is checked on the
 * way (one that cannot be checked is never recorded as verified).
 */
function metadataOf(options: PutOptions, checked: boolean): Record<string, string> {
  return checked && options.checksum ? { [CHECKSUM_METADATA]: options.checksum.toLowerCase() } : {};
}

/** Throws when the bytes sent are not the expected ones. */
function verifySent(sent: number, digest: string | undefined, options: PutOptions, expected: string | undefined): void {
  if (options.size !== undefined && sent !== options.size)
    throw new StoreError('SizeMismatch', `expected ${options.size} bytes, sent ${sent}`);
  if (digest !== undefined && digest !== expected)
    throw new StoreError('ChecksumMismatch', `the file's checksum does not match file:checksum`);
}

/** Stores a buffer with one `PutObject`, verified first and checked by the server (Content-MD5). */
export async function putWhole(target: UploadTarget, body: Buffer, options: PutOptions): Promise<number> {
  const check = await checksumHash(options.checksum);
  verifySent(body.length, check?.hash.update(body).digest('hex'), options, check?.expected);
  await target.client.send(
    new PutObjectCommand({
      Bucket: target.bucket,
      Key: target.key,
      Body: body,
      ContentLength: body.length,
      ContentMD5: md5(body).digest('base64'),
      ContentType: options.contentType,
      Metadata: metadataOf(options, check !== undefined),
    }),
  );
  options.onProgress?.(body.length);
  return body.length;
}

/** The unfinished uploads to this key, newest first. */
async function pendingUploads(target: UploadTarget): Promise<{ id: string; initiated: number }[]> {
  const found: { id: string; initiated: number }[] = [];
  let keyMarker: string | undefined;
  let idMarker: string | undefined;
  for (;;) {
    const page = await target.client.send(
      new ListMultipartUploadsCommand({
        Bucket: target.bucket,
        Prefix: target.key,
        KeyMarker: keyMarker,
        UploadIdMarker: idMarker,
      }),
    );
    for (const upload of page.Uploads ?? []) {
      if (upload.Key === target.key && upload.UploadId)
        found.push({ id: upload.UploadId, initiated: upload.Initiated?.getTime() ?? 0 });
    }
    if (!page.IsTruncated) return found.sort((a, b) => b.initiated - a.initiated);
    keyMarker = page.NextKeyMarker;
    idMarker = page.NextUploadIdMarker;
  }
}

/** Parts an upload already holds: part number → MD5 (hex) and size. */
async function uploadedParts(
  target: UploadTarget,
  uploadId: string,
): Promise<Map<number, { etag: string; size: number }>> {
  const parts = new Map<number, { etag: string; size: number }>();
  let marker: string | undefined;
  for (;;) {
    const page = await target.client.send(
      new ListPartsCommand({ Bucket: target.bucket, Key: target.key, UploadId: uploadId, PartNumberMarker: marker }),
    );
    for (const part of page.Parts ?? [])
      if (part.PartNumber) parts.set(part.PartNumber, { etag: unquote(part.ETag), size: part.Size ?? -1 });
    if (!page.IsTruncated) return parts;
    marker = page.NextPartNumberMarker;
  }
}

async function abortUpload(target: UploadTarget, uploadId: string): Promise<void> {
  await target.client.send(
    new AbortMultipartUploadCommand({ Bucket: target.bucket, Key: target.key, UploadId: uploadId }),
  );
}

/** The upload to continue: the newest unfinished one (older ones are aborted), or a new one. */
async function resumeOrCreate(target: UploadTarget, options: PutOptions, checked: boolean): Promise<string> {
  const [newest, ...stale] = await pendingUploads(target);
  for (const upload of stale) await abortUpload(target, upload.id);
  if (newest) return newest.id;
  const created = await target.client.send(
    new CreateMultipartUploadCommand({
      Bucket: target.bucket,
      Key: target.key,
      ContentType: options.contentType,
      Metadata: metadataOf(options, checked),
    }),
  );
  if (!created.UploadId) throw new Error(`the object store started no upload for ${target.key}`);
  return created.UploadId;
}

/** Sends the parts the upload does not hold yet; returns them all, the bytes read and their digest. */
async function sendParts(target: UploadTarget, uploadId: string, path: string, size: number, options: PutOptions) {
  const held = await uploadedParts(target, uploadId);
  const check = await checksumHash(options.checksum);
  const parts: { PartNumber: number; ETag: string }[] = [];
  const file = await open(path, 'r');
  let sent = 0;
  try {
    for (let number = 1; sent < size; number++) {
      const buffer = Buffer.alloc(Math.min(PART_SIZE, size - sent));
      const { bytesRead } = await file.read(buffer, 0, buffer.length, sent);
      const bytes = buffer.subarray(0, bytesRead);
      if (bytesRead === 0) break;
      check?.hash.update(bytes);
      const digest = md5(bytes).digest();
      const earlier = held.get(number);
      // A part of the earlier attempt with the same bytes is kept; any other is sent (again).
      if (earlier && earlier.etag === digest.toString('hex') && earlier.size === bytesRead) {
        parts.push({ PartNumber: number, ETag: `"${earlier.etag}"` });
      } else {
        const answer = await target.client.send(
          new UploadPartCommand({
            Bucket: target.bucket,
            Key: target.key,
            UploadId: uploadId,
            PartNumber: number,
            Body: bytes,
            ContentLength: bytesRead,
            ContentMD5: digest.toString('base64'),
          }),
        );
        parts.push({ PartNumber: number, ETag: answer.ETag ?? `"${digest.toString('hex')}"` });
      }
      sent += bytesRead;
      options.onProgress?.(sent);
    }
  } finally {
    await file.close();
  }
  return { parts, sent, digest: check?.hash.digest('hex'), expected: check?.expected };
}

/** Uploads the local file at `path` to the target, verified; returns its size. */
export async function uploadFile(target: UploadTarget, path: string, options: PutOptions): Promise<number> {
  const { size } = await stat(path);
  if (size < PART_SIZE) {
    const handle = await open(path, 'r');
    try {
      return await putWhole(target, await handle.readFile(), options);
    } finally {
      await handle.close();
    }
  }
  const uploadId = await resumeOrCreate(target, options, (await checksumHash(options.checksum)) !== undefined);
  const sent = await sendParts(target, uploadId, path, size, options);
  try {
    verifySent(sent.sent, sent.digest, options, sent.expected);
  } catch (err) {
    // Wrong bytes never become an object: the upload and its parts are dropped.
    await abortUpload(target, uploadId);
    throw err;
  }
  await target.client.send(
    new CompleteMultipartUploadCommand({
      Bucket: target.bucket,
      Key: target.key,
      UploadId: uploadId,
      MultipartUpload: { Parts: sent.parts },
    }),
  );
  return sent.sent;
}

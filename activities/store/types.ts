/**
 * The result store: where a tile's files are kept, behind one interface so the activities, the
 * dashboard and the exports never care whether that is a folder or a bucket. Keys are paths
 * relative to the store's root, with "/" between folders (`b1/t3/openEO.tif`).
 */
import type { Readable } from 'node:stream';
import type { AssetExpectation } from './checksum';

export interface PutOptions extends AssetExpectation {
  /** A media type for the stored object (object storage keeps it for readers). */
  contentType?: string;
  /** Called as bytes are stored, so an activity can heartbeat. */
  onProgress?: (bytes: number) => void;
}

export interface StoredObject {
  size: number;
}

export interface ResultStore {
  /** The root as users write it: an absolute folder, or `s3://bucket/prefix`. */
  readonly root: string;
  /** The store is object storage: files are staged on the worker's disk before they are stored. */
  readonly remote: boolean;
  /** Where `key` is, for people and records: an absolute path, or `s3://bucket/prefix/key`. */
  location(key: string): string;
  /**
   * Where a file for `key` is written on this machine before {@link putFile}: the final path
   * itself for a local store (so a download lands in place, as always), a staging file for
   * object storage.
   */
  stagingPath(key: string): string;
  /** Stores a small document (JSON, a PNG) whole; never visible half-written. */
  put(key: string, body: Buffer | string, options?: PutOptions): Promise<StoredObject>;
  /**
   * Stores the local file `path` under `key`, verified against `size`/`checksum` first: on a
   * mismatch nothing appears under `key` and a `StoreError` (`ChecksumMismatch`/`SizeMismatch`)
   * is thrown. An interrupted earlier upload is resumed or cleaned up.
   */
  putFile(key: string, path: string, options?: PutOptions): Promise<StoredObject>;
  /** True when `key` holds the expected object (size, and checksum where one was recorded). */
  holds(key: string, expect: AssetExpectation): Promise<boolean>;
  head(key: string): Promise<StoredObject | undefined>;
  /** The object's bytes as a stream with its size; undefined when there is none. */
  get(key: string): Promise<{ body: Readable; size: number } | undefined>;
  /** Keys under `prefix` (relative to the root), sorted. */
  list(prefix: string): Promise<string[]>;
  remove(key: string): Promise<void>;
  /** Proves this worker can write here: throws a `StoreError` saying why not. */
  check(): Promise<void>;
}

/** A store failure with a code: mismatches are the caller's to handle, the rest may pass. */
export class StoreError extends Error {
  override name = 'StoreError';
  constructor(
    readonly code: 'ChecksumMismatch' | 'SizeMismatch' | 'UnsafeKey' | 'Unreachable',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Refuses keys that are absolute or climb out of the root. */
export function checkKey(key: string): string {
  const segments = key.split('/');
  if (key.startsWith('/') || key.includes('\\') || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new StoreError('UnsafeKey', `"${key}" is not a key under the output root`);
  }
  return key;
}

/**
 * `resultStore(outputDir)`: the store for a spec's `outputDir` (or a tile record's folder), a
 * local folder or `s3://bucket/prefix`. Everything that writes or reads results goes through it.
 */
import { parseS3Url } from '../../src/core/batch-spec/output-schema';
import { localStore } from './local';
import { s3Store } from './s3';
import type { ResultStore } from './types';

export { releaseStaged, s3ClientConfig, stagingRoot } from './s3';
export { StoreError, type PutOptions, type ResultStore, type StoredObject } from './types';

export function resultStore(outputDir: string, env: NodeJS.ProcessEnv = process.env): ResultStore {
  const s3 = parseS3Url(outputDir);
  return s3 ? s3Store(s3.bucket, s3.prefix, env) : localStore(outputDir);
}

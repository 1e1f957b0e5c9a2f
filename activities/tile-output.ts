/**
 * A tile's place in the result store: its folder (from the spec's `outputPath` template) and how
 * one asset gets there: fetched to a local file (the final file on a local disk, a staging copy
 * for object storage), verified, then stored.
 */
import { mkdir } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { ApplicationFailure } from '@temporalio/common';
import type { BackendRef } from '../src/core/openeo/connections';
import { DEFAULT_OUTPUT_PATH, tileFolderKey } from '../src/core/batch-spec/output-path';
import { fetchAsset, type AssetFetchContext, type AssetToFetch } from './asset-downloads';
import { fileMatches, sizeOf } from './store/checksum';
import { releaseStaged, resultStore, StoreError, type ResultStore } from './store';

/** What locates a tile's files; older workflows send no `outputPath` or `period`. */
export interface TileOutputPlace {
  outputDir: string;
  /** The spec's `outputPath`; the default layout when absent. */
  outputPath?: string;
  /** The tile's period id (`period.id`), when the batch has periods. */
  period?: string;
  batchId: string;
  tileId: string;
  backend: BackendRef;
  jobId: string;
}

/** A tile's folder in its store: `folder` is the key prefix, `location` what the record shows. */
export interface TileFolder {
  store: ResultStore;
  folder: string;
  location: string;
  key(name: string): string;
}

export function tileFolder(place: TileOutputPlace): TileFolder {
  let folder: string;
  try {
    folder = tileFolderKey(place.outputPath ?? DEFAULT_OUTPUT_PATH, {
      batchId: place.batchId,
      tileId: place.tileId,
      period: place.period,
      backend: place.backend.name,
      jobId: place.jobId,
    });
  } catch (err) {
    throw ApplicationFailure.nonRetryable(
      `tile "${place.tileId}" of batch "${place.batchId}": ${(err as Error).message}`,
      'UnsafePath',
    );
  }
  const store = resultStore(place.outputDir);
  return { store, folder, location: store.location(folder), key: (name) => `${folder}/${name}` };
}

/**
 * An object-store outage is retried by the activity for as long as it lasts (the tile waits);
 * the message names `outputDir` so the cause is plain.
 */
export function storeFailure(what: string, tile: TileFolder, err: unknown): ApplicationFailure {
  const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return ApplicationFailure.create({
    message: `could not store ${what} in outputDir ${tile.store.root}: ${reason}`,
    type: 'ResultStoreUnavailable',
  });
}

/** Writes a small document of the tile (job.json, logs), retrying through the activity on outages. */
export async function storeDocument(tile: TileFolder, name: string, value: unknown): Promise<void> {
  try {
    await tile.store.put(tile.key(name), `${JSON.stringify(value, null, 2)}\n`, { contentType: 'application/json' });
  } catch (err) {
    throw storeFailure(name, tile, err);
  }
}

/**
 * Brings one asset into the store unless it is there already, verified; returns the bytes
 * downloaded from the backend (0 when nothing had to be fetched).
 */
export async function storeAsset(
  tile: TileFolder,
  asset: Omit<AssetToFetch, 'target'> & { name: string; type?: string },
  context: AssetFetchContext,
): Promise<number> {
  const key = tile.key(asset.name);
  if (await tile.store.holds(key, asset.expect)) return 0;
  const staging = tile.store.stagingPath(key);
  let bytes = 0;
  if (!(await fileMatches(staging, asset.expect))) {
    await mkdir(dirname(staging), { recursive: true });
    bytes = await fetchAsset({ key: asset.key, href: asset.href, expect: asset.expect, target: staging }, context);
  }
  try {
    await tile.store.putFile(key, staging, {
      ...asset.expect,
      contentType: asset.type,
      onProgress: (sent) => context.onProgress(asset.key, sent),
    });
  } catch (err) {
    // A staged file that is not what the backend promised is fetched again on the next try.
    if (err instanceof StoreError && (err.code === 'ChecksumMismatch' || err.code === 'SizeMismatch'))
      await releaseStaged(tile.store, key);
    throw storeFailure(`asset "${asset.key}"`, tile, err);
  }
  return bytes;
}

/** The local folder the quicklook reads the tile's files from: the tile's folder, or its staging copy. */
export function localFolder(tile: TileFolder): string {
  return dirname(tile.store.stagingPath(tile.key('_')));
}

/**
 * Makes sure the file a quicklook is made from is on this machine: a retry that found every asset
 * already in object storage fetched nothing, so the staged copy is read back from the store.
 */
export async function stageFromStore(tile: TileFolder, name: string | undefined): Promise<void> {
  if (name === undefined || !tile.store.remote) return;
  const staging = tile.store.stagingPath(tile.key(name));
  if ((await sizeOf(staging)) > 0) return;
  const stored = await tile.store.get(tile.key(name)).catch((err: unknown) => {
    throw storeFailure(`the quicklook's source "${name}"`, tile, err);
  });
  if (!stored) return;
  await mkdir(dirname(staging), { recursive: true });
  await pipeline(stored.body, createWriteStream(staging));
}

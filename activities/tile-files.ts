/**
 * A tile's folder as hooks see it: its files to read, and new files to write. Every hook goes
 * through these two functions, and they through the result store, so a post-processor works the
 * same on a worker's disk and in object storage.
 */
import { ApplicationFailure } from '@temporalio/common';
import { join } from 'node:path';
import { isPlainFileName } from '../src/core/hooks/remote';
import { buffer } from 'node:stream/consumers';
import type { TileFile } from '../src/core/hooks/postprocess';
import { resultStore } from './store';

/** The files a tile's record lists, in its folder (`record.outputDir`: a path or `s3://…`). */
export function tileFiles(tileDir: string, names: readonly string[]): TileFile[] {
  const store = resultStore(tileDir);
  return names.map((name) => ({
    name,
    location: store.location(name),
    ...(store.remote ? {} : { path: join(tileDir, name) }),
    read: async () => {
      const stored = await store.get(name);
      if (!stored) throw new Error(`${store.location(name)} is listed in the tile's record but is not there`);
      return buffer(stored.body);
    },
  }));
}

/** A plain file name: no folders, nothing hidden, nothing that climbs out of the tile's folder. */
export function checkTileFileName(name: string): void {
  if (!isPlainFileName(name)) {
    throw ApplicationFailure.nonRetryable(
      `cannot write "${name}" into the tile's folder: use a plain file name of letters, digits, ".", "_" or "-" (no folders, not starting with ".")`,
      'UnsafePath',
    );
  }
}

/** Writes one file into the tile's folder, whole or not at all (the store's atomic put). */
export async function writeTileFile(tileDir: string, name: string, data: Buffer | string): Promise<void> {
  checkTileFileName(name);
  await resultStore(tileDir).put(name, data);
}

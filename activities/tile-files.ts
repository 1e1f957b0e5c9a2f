/**
 * A tile's folder as hooks see it: its files to read, and new files to write. Every hook goes
 * through these two functions, so moving results elsewhere (object storage) changes only them.
 */
import { ApplicationFailure } from '@temporalio/common';
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { TileFile } from '../core/hooks/postprocess';

/** The files a tile's record lists, in its folder. */
export function tileFiles(tileDir: string, names: readonly string[]): TileFile[] {
  return names.map((name) => {
    const path = join(tileDir, name);
    return { name, path, read: () => readFile(path) };
  });
}

/** A plain file name: no folders, nothing hidden, nothing that climbs out of the tile's folder. */
export function checkTileFileName(name: string): void {
  if (name !== basename(name) || name.includes('\\') || name.startsWith('.') || name === '' || /[^A-Za-z0-9._-]/.test(name)) {
    throw ApplicationFailure.nonRetryable(
      `cannot write "${name}" into the tile's folder: use a plain file name of letters, digits, ".", "_" or "-" (no folders, not starting with ".")`,
      'UnsafePath',
    );
  }
}

/** Writes one file into the tile's folder, whole or not at all (a temporary name, then a rename). */
export async function writeTileFile(tileDir: string, name: string, data: Buffer | string): Promise<void> {
  checkTileFileName(name);
  const target = join(tileDir, name);
  const part = `${target}.${randomBytes(4).toString('hex')}.part`;
  try {
    await writeFile(part, data);
    await rename(part, target);
  } finally {
    await rm(part, { force: true });
  }
}

/**
 * The result store on the worker's own disk: `<root>/<key>`. Every write goes to a temporary
 * name in the same folder, is verified, then renamed into place, so no reader ever sees a partial
 * file under the final name.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { checksumHash, fileMatches, hashFile } from './checksum';
import { checkKey, StoreError, type PutOptions, type ResultStore, type StoredObject } from './types';

/** A temporary name beside `path`, hidden and unique to this write. */
function temporaryBeside(path: string): string {
  return join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
}

/** Checks a local file against the expected size and checksum; throws a `StoreError` on a mismatch. */
export async function verifyFile(path: string, options: PutOptions): Promise<number> {
  const { size } = await stat(path);
  if (options.size !== undefined && size !== options.size)
    throw new StoreError('SizeMismatch', `expected ${options.size} bytes, the file has ${size}`);
  const check = await checksumHash(options.checksum);
  if (check) {
    await hashFile(path, check.hash);
    if (check.hash.digest('hex') !== check.expected)
      throw new StoreError('ChecksumMismatch', `the file's checksum does not match file:checksum`);
  }
  return size;
}

/**
 * Keys of the files under `dir`, whose own key is `key` ('' for the root). Keys are built from the
 * names as they are read: a batch folder holds one item per tile, and resolving each of 100,000
 * paths again cost more than reading the folder.
 */
async function keysUnder(dir: string, key: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const keyOf = (name: string) => (key === '' ? name : `${key}/${name}`);
  const files = entries.filter((entry) => !entry.isDirectory()).map((entry) => keyOf(entry.name));
  const folders = await Promise.all(
    entries.filter((entry) => entry.isDirectory()).map((entry) => keysUnder(join(dir, entry.name), keyOf(entry.name))),
  );
  return files.concat(folders.flat());
}

export function localStore(outputDir: string): ResultStore {
  const root = resolve(outputDir);
  const pathOf = (key: string) => {
    const path = resolve(root, checkKey(key));
    if (!path.startsWith(root + sep)) throw new StoreError('UnsafeKey', `"${key}" would be written outside ${root}`);
    return path;
  };
  /** Renames a verified temporary file into place, removing it on any failure. */
  const commit = async (temporary: string, path: string, options: PutOptions): Promise<StoredObject> => {
    try {
      const size = await verifyFile(temporary, options);
      await rename(temporary, path);
      return { size };
    } finally {
      await rm(temporary, { force: true });
    }
  };
  return {
    root,
    remote: false,
    location: (key) => pathOf(key),
    stagingPath: (key) => pathOf(key),
    async put(key, body, options = {}) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      const temporary = temporaryBeside(path);
      await writeFile(temporary, body);
      return commit(temporary, path, options);
    },
    async putFile(key, source, options = {}) {
      const path = pathOf(key);
      // A download already landed in place through its own `.part` and rename, its checksum
      // checked as it was written: only its size is confirmed, it is not read again.
      if (resolve(source) === path) return { size: await verifyFile(path, { size: options.size }) };
      await mkdir(dirname(path), { recursive: true });
      const temporary = temporaryBeside(path);
      await copyFile(source, temporary);
      return commit(temporary, path, options);
    },
    holds: (key, expect) => fileMatches(pathOf(key), expect),
    async head(key) {
      const info = await stat(pathOf(key)).catch(() => undefined);
      return info?.isFile() ? { size: info.size } : undefined;
    },
    async get(key) {
      const path = pathOf(key);
      const info = await stat(path).catch(() => undefined);
      return info?.isFile() ? { body: createReadStream(path), size: info.size } : undefined;
    },
    async list(prefix) {
      const dir = prefix === '' ? root : pathOf(prefix);
      const keys = await keysUnder(dir, relative(root, dir).split(sep).join('/'));
      return keys.sort();
    },
    async remove(key) {
      await rm(pathOf(key), { force: true });
    },
    async check() {
      await mkdir(root, { recursive: true });
    },
  };
}

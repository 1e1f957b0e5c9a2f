/**
 * Where a batch's STAC documents are kept: `collection.json` and `items/<itemId>.json` under the
 * batch's output folder. Every write goes through {@link StacStore}, so another store (object
 * storage) can take the local folder's place; a document is replaced whole (writeFileAtomically),
 * so a reader never sees half of one.
 */
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { writeFileAtomically } from '../../src/core/write-atomically';

export const COLLECTION_KEY = 'collection.json';
export const ITEMS_PREFIX = 'items/';

export interface StacStore {
  /**
   * Where the documents are (a folder, an object storage prefix): stores with the same place
   * share their collection refreshes on a worker. Without it, every tile refreshes on its own.
   */
  readonly place?: string;
  /** Replaces the document at `key` whole. */
  writeJson(key: string, doc: unknown): Promise<void>;
  /** The document at `key`, or undefined when there is none. */
  readJson(key: string): Promise<unknown>;
  /** Keys of the documents under `prefix` (such as `items/`). */
  list(prefix: string): Promise<string[]>;
}

/** The key of an item's document. */
export function itemKey(itemId: string): string {
  return `${ITEMS_PREFIX}${itemId}.json`;
}

/** A store in a folder of the worker's file system. */
export function localStacStore(root: string): StacStore {
  const base = resolve(root);
  const pathOf = (key: string) => {
    const path = resolve(base, key);
    if (!path.startsWith(base + sep)) throw new Error(`STAC document key "${key}" would be written outside ${base}`);
    return path;
  };
  return {
    place: base,
    async writeJson(key, doc) {
      const path = pathOf(key);
      await mkdir(dirname(path), { recursive: true });
      await writeFileAtomically(path, `${JSON.stringify(doc, null, 2)}\n`);
    },
    async readJson(key) {
      try {
        return JSON.parse(await readFile(pathOf(key), 'utf8')) as unknown;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
    async list(prefix) {
      try {
        const names = await readdir(pathOf(prefix));
        return names.filter((name) => name.endsWith('.json')).map((name) => join(prefix, name).split(sep).join('/'));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
    },
  };
}

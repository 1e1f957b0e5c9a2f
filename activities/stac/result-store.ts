/**
 * The batch's STAC documents kept in its result store, beside the results: a folder on the
 * worker, or object storage shared by every worker. Each document is one whole `put`, which the
 * store makes atomic (a rename on disk, a single object write in S3).
 */
import { buffer } from 'node:stream/consumers';
import type { ResultStore } from '../store';
import type { StacStore } from './store';

/** STAC documents under `prefix` (the batch's folder, such as `b1`) of a result store. */
export function stacStoreIn(store: ResultStore, prefix: string): StacStore {
  const keyOf = (key: string) => `${prefix}/${key}`;
  return {
    place: store.location(prefix),
    async writeJson(key, doc) {
      await store.put(keyOf(key), `${JSON.stringify(doc, null, 2)}\n`, { contentType: 'application/json' });
    },
    async readJson(key) {
      const stored = await store.get(keyOf(key));
      if (!stored) return undefined;
      return JSON.parse((await buffer(stored.body)).toString('utf8')) as unknown;
    },
    async list(listPrefix) {
      // A store's keys have no trailing "/"; a folder's own keys all start with it.
      const folder = keyOf(listPrefix.replace(/\/+$/, ''));
      const keys = await store.list(folder);
      // Only the documents themselves: a local store's temporary files end otherwise.
      return keys
        .filter((key) => key.startsWith(`${folder}/`) && key.endsWith('.json'))
        .map((key) => key.slice(prefix.length + 1));
    },
  };
}

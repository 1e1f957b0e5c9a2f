/**
 * Keeping a batch's catalogue whole while tiles finish on several workers at once: each tile
 * writes its own item (no one else writes that key), then rebuilds the collection from the items
 * present (folding into the stored collection the items it does not link yet). Two updates may
 * race, and the slower one may replace the collection with one made from an older state; so
 * every writer reads the collection back after its write and updates it again while an item it
 * can see is missing. The last writer's check then sees every item whose
 * own writer has finished, so no finished tile's item is left out of the final collection.
 */
import type { StacSettings } from '../../src/core/batch-spec/stac-settings';
import { extendCollection, type StacCollection } from './collection';
import type { StacItem } from './item';
import { COLLECTION_KEY, ITEMS_PREFIX, itemKey, type StacStore } from './store';

/** Rebuilds before giving up; each one only repeats when another writer raced this one. */
const MAX_REBUILDS = 20;

function idFromKey(key: string): string {
  return key.slice(ITEMS_PREFIX.length, -'.json'.length);
}

async function readItems(store: StacStore, keys: readonly string[]): Promise<StacItem[]> {
  const docs = await Promise.all(keys.map((key) => store.readJson(key)));
  // An item removed between the listing and the read is simply not there any more.
  return docs.filter((doc): doc is StacItem => typeof doc === 'object' && doc !== null);
}

/** Ids of the items the stored collection links to. */
function linkedIds(collection: unknown): Set<string> {
  const links = (collection as Partial<StacCollection> | undefined)?.links ?? [];
  return new Set(links.filter((l) => l.rel === 'item').map((l) => idFromKey(l.href.replace(/^\.\//, ''))));
}

/**
 * A refresh rests this many times its own length before the next one starts. A refresh reads,
 * rewrites and lists the whole collection, so its cost grows with the batch: run back to back
 * while tiles keep finishing, refreshes took most of a worker's time at 60,000 items. Resting
 * keeps them to a quarter of it at any size; a tile waits for at most one rest and two refreshes.
 */
const REST_PER_REFRESH = 3;
/** The longest rest, so a tile never waits much longer than a slow refresh. */
const MAX_REST_MS = 30_000;

/** What a refresh's rest needs of time (a test passes its own). */
export interface RestClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const SYSTEM_CLOCK: RestClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
};

/**
 * One batch's collection refreshes on this worker, one at a time. A refresh re-reads, rewrites
 * and lists the whole collection, so tiles that finish together share one: a tile joins the
 * next refresh that has not started yet (it will list the tile's item), never one already
 * running (it may have listed the items before the tile's was written).
 */
export class SharedRefresh {
  private running: Promise<StacCollection> | undefined;
  private queued: Promise<StacCollection> | undefined;
  /** How long the last refresh took, which sets the rest before the next. */
  private lastMs = 0;

  constructor(private readonly clock: RestClock = SYSTEM_CLOCK) {}

  get idle(): boolean {
    return this.running === undefined && this.queued === undefined;
  }

  run(refresh: () => Promise<StacCollection>): Promise<StacCollection> {
    if (this.queued) return this.queued;
    if (!this.running) return this.start(refresh);
    this.queued = this.running
      .catch(() => undefined)
      .then(() => this.clock.sleep(Math.min(MAX_REST_MS, REST_PER_REFRESH * this.lastMs)))
      .then(() => this.start(refresh));
    return this.queued;
  }

  private start(refresh: () => Promise<StacCollection>): Promise<StacCollection> {
    this.queued = undefined;
    const began = this.clock.now();
    const running = refresh().finally(() => {
      this.lastMs = this.clock.now() - began;
      if (this.running === running) this.running = undefined;
    });
    this.running = running;
    return running;
  }
}

/** Refreshes by the collection's place (store and batch); an idle entry is dropped. */
const refreshes = new Map<string, SharedRefresh>();

/** Writes the item of a tile, then brings the collection up to date; returns the collection written last. */
export async function writeItemAndCollection(
  store: StacStore,
  batchId: string,
  settings: StacSettings,
  item: StacItem,
): Promise<StacCollection> {
  await store.writeJson(itemKey(item.id), item);
  if (store.place === undefined) return refreshCollection(store, batchId, settings);
  const place = `${store.place} ${batchId}`;
  const shared = refreshes.get(place) ?? new SharedRefresh();
  refreshes.set(place, shared);
  try {
    return await shared.run(() => refreshCollection(store, batchId, settings));
  } finally {
    if (shared.idle && refreshes.get(place) === shared) refreshes.delete(place);
  }
}

/**
 * Brings `collection.json` up to date with the items present, until it links every item it can
 * see: each round reads only the items the stored collection does not link yet.
 */
export async function refreshCollection(
  store: StacStore,
  batchId: string,
  settings: StacSettings,
): Promise<StacCollection> {
  for (let round = 1; ; round++) {
    const stored = (await store.readJson(COLLECTION_KEY)) as StacCollection | undefined;
    const linked = linkedIds(stored);
    const missing = (await store.list(ITEMS_PREFIX)).filter((key) => !linked.has(idFromKey(key)));
    const collection = extendCollection(stored, { batchId, settings, items: await readItems(store, missing) });
    await store.writeJson(COLLECTION_KEY, collection);
    const written = linkedIds(await store.readJson(COLLECTION_KEY));
    const seen = await store.list(ITEMS_PREFIX);
    if (seen.every((key) => written.has(idFromKey(key)))) return collection;
    if (round >= MAX_REBUILDS)
      throw new Error(`collection.json of batch ${batchId} still misses items after ${round} rebuilds`);
  }
}

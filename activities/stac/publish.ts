/**
 * A finished tile's STAC: its item (assets read from the files on disk) written next to the
 * results, the batch's collection brought up to date, and both pushed to the STAC API when the
 * spec names one. Runs at the end of the download activity, after every file is verified, so
 * a tile whose item is written has all its files.
 */
import { stat } from 'node:fs/promises';
import { join, posix, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { StacSettings } from '../../src/core/batch-spec/stac-settings';
import { StacApiClient, stacPushFailure } from './api';
import { writeItemAndCollection } from './catalog';
import type { StacCollection } from './collection';
import { assetDocument, extensionsOf, stacItem, type ItemAssetInput, type ItemTile, type StacItem } from './item';
import { isGeoTiffAsset, readProjection, type ProjectionFields } from './raster-info';
import { itemKey, localStacStore, type StacStore } from './store';

/** One file of the tile, as the download activity knows it. */
export interface TileFile {
  key: string;
  /** File name in the tile's folder. */
  file: string;
  type?: string;
  title?: string;
  roles?: string[];
  checksum?: string;
  /** Bytes, when the caller knows them (a store without local files); else read from the file. */
  size?: number;
}

export interface TileStacInput {
  batchId: string;
  /** `<outputDir>/<batchId>`: where `collection.json` and `items/` go. */
  batchDir: string;
  tileDir: string;
  tile: ItemTile;
  settings: StacSettings;
  job: { id: string; backend: string; backendUrl: string };
  resultTime: string;
  files: TileFile[];
  /**
   * The href of a tile's file in its item. @default the path relative to `items/` (local folders);
   * a store in object storage gives the object's URL.
   */
  hrefFor?: (file: TileFile, path: string) => string;
}

export interface TileStacOutcome {
  item: StacItem;
  collection: StacCollection;
  /** The item's file, relative to the batch folder. */
  itemFile: string;
  pushed?: { item: 'created' | 'updated'; collection: 'created' | 'updated' };
}

/** The `proj:` fields of a GeoTIFF, or none for other files and rasters geotiff.js cannot read. */
async function projectionOf(path: string, file: TileFile): Promise<ProjectionFields | undefined> {
  if (!isGeoTiffAsset(file.type, file.file)) return undefined;
  return readProjection(path).catch(() => undefined);
}

/** Relative href from the item (in `items/`) to a file of the tile. */
function relativeHref(batchDir: string, path: string): string {
  return relative(join(batchDir, 'items'), path).split(sep).join(posix.sep);
}

async function itemAssets(
  input: Pick<TileStacInput, 'files' | 'tileDir' | 'batchDir' | 'hrefFor'>,
): Promise<ItemAssetInput[]> {
  return Promise.all(
    input.files.map(async (file) => {
      const path = join(input.tileDir, file.file);
      const projection = await projectionOf(path, file);
      return {
        key: file.key,
        href: input.hrefFor ? input.hrefFor(file, path) : relativeHref(input.batchDir, path),
        type: file.type,
        title: file.title,
        roles: file.roles,
        size: file.size ?? (await stat(path)).size,
        checksum: file.checksum,
        ...(projection ? { projection } : {}),
      };
    }),
  );
}

/** The item as the API keeps it: absolute hrefs, and no links of the local folder. */
function forApi(item: StacItem, collectionId: string, batchDir: string): StacItem {
  const itemsDir = join(batchDir, 'items');
  const assets = Object.fromEntries(
    Object.entries(item.assets).map(([key, asset]) => {
      const href = String(asset.href);
      return [
        key,
        { ...asset, href: /^[a-z][a-z0-9+.-]*:/i.test(href) ? href : pathToFileURL(resolve(itemsDir, href)).href },
      ];
    }),
  );
  return { ...item, collection: collectionId, assets, links: [] };
}

/** The collection as the API keeps it: its own id, without links to local files. */
function collectionForApi(collection: StacCollection, collectionId: string): StacCollection {
  return { ...collection, id: collectionId, links: [] };
}

/** Pushes the collection, then the item; both idempotent. */
async function push(
  input: TileStacInput,
  item: StacItem,
  collection: StacCollection,
): Promise<TileStacOutcome['pushed']> {
  const api = input.settings.api;
  if (!api) return undefined;
  const client = new StacApiClient(api.url);
  try {
    const pushedCollection = await client.upsertCollection(collectionForApi(collection, api.collectionId));
    const pushedItem = await client.upsertItem(api.collectionId, forApi(item, api.collectionId, input.batchDir));
    return { collection: pushedCollection, item: pushedItem };
  } catch (err) {
    throw stacPushFailure(err);
  }
}

/** Files that join a tile after its download (a post-processor's), for its item. */
export type AddedFilesInput = Pick<TileStacInput, 'batchDir' | 'tileDir' | 'settings' | 'files' | 'hrefFor'> & {
  itemId: string;
};

/**
 * Adds files to a tile's item as assets (replacing an asset of the same key) and pushes the item
 * again when the spec names a STAC API. Undefined when the tile has no item to add to.
 */
export async function addItemAssets(input: AddedFilesInput, store: StacStore): Promise<StacItem | undefined> {
  const item = (await store.readJson(itemKey(input.itemId))) as StacItem | undefined;
  if (!item) return undefined;
  const assets = await itemAssets(input);
  for (const asset of assets) item.assets[asset.key] = assetDocument(asset);
  item.stac_extensions = [...new Set([...item.stac_extensions, ...extensionsOf(assets)])];
  await store.writeJson(itemKey(item.id), item);
  const api = input.settings.api;
  if (api) {
    await new StacApiClient(api.url)
      .upsertItem(api.collectionId, forApi(item, api.collectionId, input.batchDir))
      .catch((err: unknown) => {
        throw stacPushFailure(err);
      });
  }
  return item;
}

/** Writes the tile's item and the collection, and pushes both when the spec names a STAC API. */
export async function publishTileStac(
  input: TileStacInput,
  store: StacStore = localStacStore(input.batchDir),
): Promise<TileStacOutcome> {
  const item = stacItem({
    tile: input.tile,
    collectionId: input.settings.collectionId,
    job: input.job,
    resultTime: input.resultTime,
    assets: await itemAssets(input),
  });
  const collection = await writeItemAndCollection(store, input.batchId, input.settings, item);
  const pushed = await push(input, item, collection);
  return { item, collection, itemFile: itemKey(item.id), ...(pushed ? { pushed } : {}) };
}

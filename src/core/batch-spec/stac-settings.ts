/**
 * A batch's STAC settings with their defaults, as the tile workflows hand them to the download
 * activity. Free of zod, so workflow code can use it.
 */
import type { StacSpec } from './stac';

/** What the tile's download activity needs to write and push STAC documents. */
export interface StacSettings {
  collectionId: string;
  title?: string;
  description?: string;
  license: string;
  api?: { url: string; collectionId: string };
}

/** The settings of a batch's STAC documents, defaults filled in. */
export function stacSettings(batchId: string, spec: StacSpec | undefined): StacSettings {
  const collection = spec?.collectionId ?? batchId;
  return {
    collectionId: collection,
    ...(spec?.title !== undefined ? { title: spec.title } : {}),
    ...(spec?.description !== undefined ? { description: spec.description } : {}),
    license: spec?.license ?? 'other',
    ...(spec?.api ? { api: { url: spec.api.url, collectionId: spec.api.collectionId ?? collection } } : {}),
  };
}

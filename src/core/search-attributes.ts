/**
 * Custom search attributes: they make tiles findable in the Temporal UI and CLI, e.g.
 * `temporal workflow list --query 'OpenEOBatchId="antwerp-bap" AND OpenEOTileStatus="error"'`.
 * The dev server registers them at start; a real cluster needs them created once
 * (`temporal operator search-attribute create`, see docs/operations.md).
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const BATCH_ID = defineSearchAttributeKey('OpenEOBatchId', SearchAttributeType.KEYWORD);
export const TILE_STATUS = defineSearchAttributeKey('OpenEOTileStatus', SearchAttributeType.KEYWORD);
export const BACKEND = defineSearchAttributeKey('OpenEOBackend', SearchAttributeType.KEYWORD);
export const OPENEO_JOB_ID = defineSearchAttributeKey('OpenEOJobId', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [BATCH_ID, TILE_STATUS, BACKEND, OPENEO_JOB_ID] as const;

/** The same attributes as the dev server's `--search-attribute Name=Type` flags want them. */
export const DEV_SERVER_SEARCH_ATTRIBUTES = Object.fromEntries(
  SEARCH_ATTRIBUTES.map((key) => [key.name, 'Keyword'] as const),
);

/** Memo key under which an ended tile workflow keeps its `TileRecord` (listed with visibility). */
export const TILE_RECORD_MEMO = 'openeoTileRecord';

/**
 * A batch's tiles, handed out a page at a time: derived again on demand from the AOI, the inline
 * collection, or the tile file or URL, never stored in history in bulk.
 */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { tileWorkflowId } from '../src/core/ids';
import { SpecError } from '../src/core/batch-spec/errors';
import type { PeriodsSpecInput, TilesSpec } from '../src/core/batch-spec/schema';
import type { Tile, TileFeatureCollection, TileSource } from '../src/core/batch-spec/tile-types';
import { addedPeriodTiles, featureSlicePeriodTiles, featureSliceTiles, tilePage } from '../src/core/batch-spec/tiling';
import { checkFingerprint, isTileFile, loadTiles } from './tile-source';

export interface TilePageInput {
  /**
   * The spec's tiles; for an inline FeatureCollection, only the page's features (the workflow
   * slices it, so the whole collection is not copied into history for every page).
   */
  tiles: TilesSpec;
  offset: number;
  limit: number;
  /** For `tiles: {file}` or `{url}`: the fingerprint `prepareBatch` saw. */
  fingerprint?: string;
  /** The spec's periods: tiles are then place × period pairs (an inline slice holds the page's places). */
  periods?: PeriodsSpecInput;
}

export interface AddedTilesInput {
  features: TileFeatureCollection['features'];
  /** The batch's next tile index: the added tiles' numbers (and default ids) start there. */
  firstIndex: number;
  batchId?: string;
  /** The spec's periods, in a batch that has them. */
  periods?: PeriodsSpecInput;
}

/** Fails when one of the tiles already has a workflow in the batch. */
async function refuseKnownIds(batchId: string, tiles: Tile[]): Promise<void> {
  const { client } = Context.current();
  for (const [i, tile] of tiles.entries()) {
    try {
      await client.workflow.getHandle(tileWorkflowId(batchId, tile.id)).describe();
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) continue;
      throw err;
    }
    throw ApplicationFailure.nonRetryable(
      `features[${i}]: tile id "${tile.id}" is already a tile of this batch; give the added tile another id`,
      'InvalidTiles',
    );
  }
}

export function createTilePageActivities() {
  return {
    /**
     * Validates tiles added to a running batch; their default ids continue the batch's numbering.
     * In a batch with periods each added feature is a place, run in every period. With `batchId`,
     * a tile id that already has a tile workflow in the batch is refused: it would never run (a
     * tile never runs twice under one batch id).
     */
    async normalizeAddedTiles(input: AddedTilesInput): Promise<Tile[]> {
      let tiles: Tile[];
      try {
        tiles = input.periods
          ? addedPeriodTiles(input.features, input.periods, input.firstIndex)
          : featureSliceTiles({ type: 'FeatureCollection', features: input.features }, input.firstIndex);
      } catch (err) {
        if (err instanceof SpecError)
          throw ApplicationFailure.nonRetryable(err.message.replace(/^tiles\./, ''), 'InvalidTiles');
        throw err;
      }
      if (input.batchId !== undefined) await refuseKnownIds(input.batchId, tiles);
      return tiles;
    },

    /** Tiles `offset … offset+limit` of the spec's tiles, in their fixed order. */
    async listTiles(input: TilePageInput): Promise<Tile[]> {
      const { tiles } = input;
      if (isTileFile(tiles)) {
        const loaded = await loadTiles(tiles, { duringBatch: true });
        checkFingerprint(tiles, loaded, input.fingerprint);
        return tilePage(loaded.collection, input.offset, input.limit, input.periods);
      }
      if ('aoi' in tiles) return tilePage(tiles as TileSource, input.offset, input.limit, input.periods);
      // The schema only checks the outline of a collection; featureSliceTiles validates each feature.
      const slice = tiles as unknown as TileFeatureCollection;
      if (input.periods) return featureSlicePeriodTiles(slice, input.periods, input.offset, input.limit);
      return featureSliceTiles(slice, input.offset);
    },
  };
}

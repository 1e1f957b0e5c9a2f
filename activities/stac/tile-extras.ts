/**
 * Files a post-processor wrote join the tile's STAC item, beside the downloaded results: a
 * statistic per tile is found where the tile is catalogued, also through the STAC API. Runs as
 * an activity of its own after the post-processor, retried for as long as an outage lasts (the
 * post-processor's few attempts are for its own bugs, not for a STAC API that is down).
 */
import { ApplicationFailure } from '@temporalio/common';
import { extname } from 'node:path';
import { stacSettings, type StacSettings } from '../../src/core/batch-spec/stac-settings';
import { resultStore } from '../store';
import { addItemAssets, type TileFile } from './publish';
import { stacStoreIn } from './result-store';

export interface TileExtrasInput {
  batchId: string;
  /** The spec's `outputDir`: the batch's STAC documents are under `<outputDir>/<batchId>/`. */
  outputDir: string;
  tileId: string;
  /** The tile's folder (`record.outputDir`: a path or `s3://…`). */
  tileDir: string;
  /** Names of the files to add, in the tile's folder. */
  files: string[];
  stac?: StacSettings;
}

/** Media types of files post-processors commonly write; others are left without a type. */
const MEDIA_TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.geojson': 'application/geo+json',
  '.csv': 'text/csv',
  '.txt': 'text/plain',
  '.tif': 'image/tiff; application=geotiff',
  '.tiff': 'image/tiff; application=geotiff',
  '.png': 'image/png',
  '.nc': 'application/x-netcdf',
  '.parquet': 'application/vnd.apache.parquet',
};

/** A tabular or text file describes the results (`metadata`); anything else is `data`. */
function extraFile(name: string): TileFile {
  const type = MEDIA_TYPES[extname(name).toLowerCase()];
  const describes = type !== undefined && /json|csv|text/.test(type) && !type.includes('geo+json');
  return { key: name, file: name, ...(type ? { type } : {}), roles: [describes ? 'metadata' : 'data'] };
}

export function createTileExtrasActivities() {
  return {
    /** Adds the files to the tile's item; a tile without an item (an older batch) is left as it is. */
    async addTileFilesToStac(input: TileExtrasInput): Promise<{ added: string[] }> {
      const root = resultStore(input.outputDir);
      const tileStore = resultStore(input.tileDir);
      let files = input.files.map(extraFile);
      try {
        // Object storage: sizes from the objects (nothing of them is on this machine).
        if (tileStore.remote)
          files = await Promise.all(
            files.map(async (file) => ({ ...file, size: (await tileStore.head(file.file))?.size })),
          );
        const item = await addItemAssets(
          {
            itemId: input.tileId,
            batchDir: root.location(input.batchId),
            tileDir: input.tileDir,
            settings: input.stac ?? stacSettings(input.batchId, undefined),
            files,
            ...(tileStore.remote ? { hrefFor: (file: TileFile) => tileStore.location(file.file) } : {}),
          },
          stacStoreIn(root, input.batchId),
        );
        return { added: item ? files.map((f) => f.key) : [] };
      } catch (err) {
        if (err instanceof ApplicationFailure) throw err;
        const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        throw ApplicationFailure.create({
          message: `could not add ${input.files.join(', ')} to the STAC item of tile "${input.tileId}" in ${root.location(input.batchId)}/items: ${reason}`,
          type: 'ResultStoreUnavailable',
        });
      }
    },
  };
}

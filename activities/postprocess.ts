/**
 * The post-processing hook's activity: runs the post-processor the spec names on a tile whose
 * results are downloaded, with its record and files. Its small result goes back to the tile's
 * record; files it writes join the tile's folder (and `files`). The downloaded files are never
 * touched, so a failed step loses nothing and can be run again alone.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  MAX_POSTPROCESS_RESULT_BYTES,
  POSTPROCESS_FAILED,
  type PostprocessOutcome,
  type Postprocessor,
} from '../src/core/hooks/postprocess';
import type { TileRecord } from '../src/core/records';
import type { Tile } from '../src/core/batch-spec/tile-types';
import { registeredNames } from './job-factory';
import { tileFiles, writeTileFile } from './tile-files';

export interface PostprocessTileInput {
  batchId: string;
  postprocess: string;
  tile: Tile;
  record: TileRecord;
}

/** The result as JSON, or a failure when it is not JSON or too large for a record. */
function checkedResult(result: unknown, where: string): unknown {
  if (result === undefined) return undefined;
  let json: string | undefined;
  try {
    json = JSON.stringify(result);
  } catch (err) {
    throw ApplicationFailure.nonRetryable(
      `${where} returned a result that is not JSON (${(err as Error).message})`,
      POSTPROCESS_FAILED,
    );
  }
  if (json === undefined) return undefined;
  const bytes = Buffer.byteLength(json);
  if (bytes > MAX_POSTPROCESS_RESULT_BYTES) {
    throw ApplicationFailure.nonRetryable(
      `${where} returned ${bytes} bytes, more than the ${MAX_POSTPROCESS_RESULT_BYTES} a tile record keeps: write large outputs with writeFile and return a summary`,
      POSTPROCESS_FAILED,
    );
  }
  return JSON.parse(json) as unknown;
}

export function createPostprocessActivities(postprocessors: Record<string, Postprocessor>) {
  return {
    /**
     * Runs the named post-processor. A throw fails with its message (retryable: the workflow
     * allows a few attempts); a result that cannot be kept fails without retry.
     */
    async postprocessTile(input: PostprocessTileInput): Promise<PostprocessOutcome> {
      const ctx = Context.current();
      const where = `post-processor "${input.postprocess}" for tile "${input.tile.id}"`;
      const postprocessor = postprocessors[input.postprocess];
      if (!postprocessor) {
        throw ApplicationFailure.retryable(
          `${where}: no such post-processor on this worker (registered: ${registeredNames(postprocessors)}); register it with createOpenEOPlugin({ postprocessors })`,
          POSTPROCESS_FAILED,
        );
      }
      const { outputDir, files = [] } = input.record;
      if (!outputDir)
        throw ApplicationFailure.nonRetryable(`${where}: the tile has no results folder`, POSTPROCESS_FAILED);
      const written: string[] = [];
      let result: unknown;
      // The worker is alive while the hook runs, whether or not the hook heartbeats itself: a
      // killed worker is still noticed, a slow hook is not taken for a dead one.
      const alive = setInterval(() => ctx.heartbeat({ postprocess: 'running' }), 10_000);
      try {
        result = await postprocessor({
          batchId: input.batchId,
          tile: input.tile,
          record: input.record,
          files: tileFiles(outputDir, files),
          writeFile: async (name, data) => {
            await writeTileFile(outputDir, name, data);
            if (!written.includes(name)) written.push(name);
          },
          heartbeat: (details) => ctx.heartbeat(details),
          signal: ctx.cancellationSignal,
        });
      } catch (err) {
        if (err instanceof ApplicationFailure) throw err;
        ctx.log.warn(`${where} threw: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        throw ApplicationFailure.retryable(
          `${where} failed: ${err instanceof Error ? err.message : String(err)}`,
          POSTPROCESS_FAILED,
        );
      } finally {
        clearInterval(alive);
      }
      return { result: checkedResult(result, where), written };
    },
  };
}

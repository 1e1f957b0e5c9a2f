/**
 * The post-processing hook: a user's function, registered on the worker under a name, that runs
 * after a tile's results are downloaded, with the tile's record and its files. Types only; the
 * hook runs in an activity (`activities/postprocess.ts`).
 */
import type { TileRecord } from '../records';
import type { Tile } from '../batch-spec/tile-types';

/** One file of a tile's folder. */
export interface TileFile {
  /** The name in the tile's folder, as the record's `files` lists it. */
  name: string;
  /** Where it is: a path on this worker's file system, or `s3://bucket/key` in object storage. */
  location: string;
  /** Its path on this worker's file system, for tools that need one; absent in object storage (use `read()`). */
  path?: string;
  /** The whole file. */
  read(): Promise<Buffer>;
}

/**
 * What a post-processing hook is called with: the tile, its record and files, and ways to add a
 * file, report that it is alive and notice a cancel.
 */
export interface PostprocessInput {
  /** The batch the tile belongs to. */
  batchId: string;
  /** The tile: its id, outline and properties. */
  tile: Tile;
  /** The tile's record as it stands after the download (status `finished`). */
  record: TileRecord;
  /** The tile's files: the result assets, `job.json`, quicklooks. */
  files: TileFile[];
  /**
   * Writes a file into the tile's folder (whole or not at all); it joins the record's `files`.
   * A name is a plain file name: no folders, no `..`.
   */
  writeFile(name: string, data: Buffer | string): Promise<void>;
  /** Tells Temporal the step is alive; call it at least every minute in long steps. */
  heartbeat(details?: unknown): void;
  /** Aborted when the activity is cancelled (e.g. the batch is cancelled). */
  signal: AbortSignal;
}

/**
 * A post-processing hook. Its result (small JSON, at most {@link MAX_POSTPROCESS_RESULT_BYTES}
 * once serialized) is kept in the tile's record as `postprocessResult`; larger outputs belong in
 * files. Throwing leaves the tile's files in place and ends the tile `error` (`PostprocessFailed`).
 */
export type Postprocessor = (input: PostprocessInput) => Promise<unknown> | unknown;

/** The failure type of a post-processor that threw, or answered something a record cannot keep. */
export const POSTPROCESS_FAILED = 'PostprocessFailed';

/** The largest post-processing result kept in a record (it travels in history and memos). */
export const MAX_POSTPROCESS_RESULT_BYTES = 16 * 1024;

/** What the post-processing activity returns to the tile workflow. */
export interface PostprocessOutcome {
  /** The hook's result, if it returned one. */
  result?: unknown;
  /** Files the hook wrote, to add to the record's `files`. */
  written: string[];
}

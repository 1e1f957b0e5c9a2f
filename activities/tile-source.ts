/**
 * Tiles from a file or URL (GeoJSON, or GeoJSON lines), read by the worker and handed out a page
 * at a time. A batch pages through its tiles by offset over days, so the source must not change
 * meanwhile: `prepareBatch` records a fingerprint and every page checks it.
 */
import { ApplicationFailure } from '@temporalio/common';
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { TileFileSpec, TilesSpec } from '../src/core/batch-spec/schema';
import { HttpError, httpRequest } from '../src/core/http/request';
import type { TileFeatureCollection } from '../src/core/batch-spec/tile-types';

/** How long a tile URL may take to send the whole source. */
const TILE_URL_TIMEOUT_MS = 60_000;

export interface LoadedTiles {
  collection: TileFeatureCollection;
  /** SHA-256 of the source's bytes. */
  fingerprint: string;
}

/** True for tiles read from a file or URL (rather than an AOI or an inline collection). */
export function isTileFile(tiles: TilesSpec): tiles is TileFileSpec {
  return 'file' in tiles || 'url' in tiles;
}

/** Where the tiles are, for messages: the file path or the URL. */
export function tileLocation(spec: TileFileSpec): string {
  return 'file' in spec ? spec.file : spec.url;
}

function isLines(spec: TileFileSpec): boolean {
  return spec.format ? spec.format === 'geojsonl' : /\.(geojsonl|geojsonseq|jsonl|ndjson)$/i.test(tileLocation(spec));
}

function parse(text: string, spec: TileFileSpec): TileFeatureCollection {
  const where = tileLocation(spec);
  if (isLines(spec)) {
    const features = text
      .split('\n')
      .map((line, i) => [line.trim(), i + 1] as const)
      .filter(([line]) => line !== '')
      .map(([line, lineNo]) => {
        try {
          return JSON.parse(line) as TileFeatureCollection['features'][number];
        } catch {
          throw ApplicationFailure.nonRetryable(
            `tiles: line ${lineNo} of ${where} is not valid JSON; each line must be one GeoJSON Feature`,
            'InvalidBatchSpec',
          );
        }
      });
    return { type: 'FeatureCollection', features };
  }
  try {
    return JSON.parse(text) as TileFeatureCollection;
  } catch (err) {
    throw ApplicationFailure.nonRetryable(
      `tiles: ${where} is not valid JSON (${(err as Error).message}); give a GeoJSON FeatureCollection`,
      'InvalidBatchSpec',
    );
  }
}

/**
 * When the source cannot be read: before a batch starts that is a problem with the spec; once
 * it runs, an outage (a file missing on one worker, a URL's host down) to wait out.
 */
function unreadable(message: string, fix: string, duringBatch: boolean): ApplicationFailure {
  return duringBatch
    ? ApplicationFailure.retryable(message, 'TileSourceUnavailable')
    : ApplicationFailure.nonRetryable(`${message}; ${fix}`, 'InvalidBatchSpec');
}

async function readSource(spec: TileFileSpec, duringBatch: boolean): Promise<{ bytes: Buffer; version: string }> {
  if ('file' in spec) {
    try {
      const info = await stat(spec.file);
      return { bytes: await readFile(spec.file), version: `${info.size}:${info.mtimeMs}` };
    } catch (err) {
      throw unreadable(
        `tiles.file: cannot read ${spec.file} on the worker (${(err as Error).message})`,
        'give a path every worker can read',
        duringBatch,
      );
    }
  }
  const response = await httpRequest(spec.url, { timeoutMs: TILE_URL_TIMEOUT_MS, label: `tiles.url: ${spec.url}` });
  if (!response.ok) {
    const err = await HttpError.fromAnswer(response, `tiles.url: ${spec.url}`);
    // A busy server may recover; a missing file is a spec problem, unless the batch already runs.
    if (err.transient) throw ApplicationFailure.retryable(err.message, 'TileSourceUnavailable');
    throw unreadable(err.message, 'check the URL', duringBatch);
  }
  const bytes = Buffer.from(await response.arrayBuffer());
  return { bytes, version: createHash('sha256').update(bytes).digest('hex') };
}

/** One loaded source per location, kept while its version (file size and time) is unchanged. */
const cache = new Map<string, { version: string; loaded: LoadedTiles }>();

/** Reads and parses the tile source, from the worker's cache when it is unchanged. */
export async function loadTiles(spec: TileFileSpec, options: { duringBatch?: boolean } = {}): Promise<LoadedTiles> {
  const location = tileLocation(spec);
  const cached = cache.get(location);
  // A URL is read once per worker; a file again only when its size or time changed.
  if (cached && 'url' in spec) return cached.loaded;
  const { bytes, version } = await readSource(spec, options.duringBatch ?? false);
  if (cached && cached.version === version) return cached.loaded;
  const loaded = {
    collection: parse(bytes.toString('utf8'), spec),
    fingerprint: createHash('sha256').update(bytes).digest('hex'),
  };
  cache.set(location, { version, loaded });
  // A worker serves few batches at once; keep memory bounded all the same.
  if (cache.size > 4) cache.delete(cache.keys().next().value as string);
  return loaded;
}

/** Fails when the source is not the one the batch was prepared with. */
export function checkFingerprint(spec: TileFileSpec, loaded: LoadedTiles, expected: string | undefined): void {
  if (expected !== undefined && loaded.fingerprint !== expected) {
    throw ApplicationFailure.nonRetryable(
      `tiles: ${tileLocation(spec)} changed while the batch runs; tiles are read by position, so a running batch needs the same file. Restore it, or start a new batch`,
      'TileSourceChanged',
    );
  }
}

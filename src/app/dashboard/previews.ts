/**
 * Result previews: the quicklook the worker made next to a finished tile's results. Only a file
 * the tile's record lists is read, under the folder the record names (a local folder or
 * `s3://…`, read through the result store): the page can never ask for another path. The page
 * never gets a whole GeoTIFF.
 */
import { text } from 'node:stream/consumers';
import type { ServerResponse } from 'node:http';
import { resultStore } from '../../../activities/store';
import type { TileRecord } from '../../core/records';
import { hasQuicklook, QUICKLOOK_IMAGE, QUICKLOOK_INFO, type Bounds } from './tile-view';

type Listed = Pick<TileRecord, 'status' | 'files' | 'outputDir'>;

/** Where the quicklook lies, from its `quicklook.json` (`bbox`, EPSG:4326); undefined if it does not say. */
export async function quicklookBounds(row: Listed): Promise<Bounds | undefined> {
  if (!hasQuicklook(row) || !(row.files ?? []).includes(QUICKLOOK_INFO)) return undefined;
  try {
    const stored = await resultStore(row.outputDir!).get(QUICKLOOK_INFO);
    if (!stored) return undefined;
    const info = JSON.parse(await text(stored.body)) as { bbox?: unknown };
    const bbox = info.bbox;
    if (Array.isArray(bbox) && bbox.length === 4 && bbox.every((n) => typeof n === 'number' && Number.isFinite(n)))
      return bbox as Bounds;
  } catch {
    // Not readable from here (another machine's disk) or not JSON: the tile's outline places it.
  }
  return undefined;
}

/** Answers with a tile's quicklook image, or 404 when its record lists none or the file is not here. */
export async function sendQuicklook(row: Listed | undefined, res: ServerResponse): Promise<void> {
  if (!row || !hasQuicklook(row)) return notFound(res, 'this tile has no quicklook');
  const stored = await resultStore(row.outputDir!)
    .get(QUICKLOOK_IMAGE)
    .catch(() => undefined);
  if (!stored)
    return notFound(res, `the quicklook is not reachable from here (${QUICKLOOK_IMAGE} in the tile's output folder)`);
  // A finished tile's quicklook never changes (a rerun makes a new record, with a new finish time).
  res.writeHead(200, {
    'content-type': 'image/png',
    'content-length': stored.size,
    'cache-control': 'private, max-age=3600',
  });
  stored.body.on('error', () => res.destroy()).pipe(res);
}

function notFound(res: ServerResponse, message: string): void {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(message);
}

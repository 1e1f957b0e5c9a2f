/**
 * The STAC Collection of a batch's results, derived from the items present: its extent spans
 * every item's bbox and time, its providers are the backends that ran the jobs, and it links to
 * each item. Pure, and the same items in any order give the same document, so any worker can
 * rebuild it at any time.
 */
import type { StacSettings } from '../../core/spec/stac-settings';
import { STAC_VERSION, type StacItem, type StacLink } from './item';

export interface StacCollection {
  type: 'Collection';
  stac_version: string;
  stac_extensions: string[];
  id: string;
  title?: string;
  description: string;
  license: string;
  providers: { name: string; roles: string[]; url?: string }[];
  extent: { spatial: { bbox: number[][] }; temporal: { interval: (string | null)[][] } };
  links: StacLink[];
}

const WHOLE_WORLD = [-180, -90, 180, 90];

function spatialExtent(items: readonly StacItem[]): number[] {
  if (items.length === 0) return WHOLE_WORLD;
  const [w, s, e, n] = [0, 1, 2, 3].map((i) => items.map((item) => item.bbox[i]));
  return [Math.min(...w), Math.min(...s), Math.max(...e), Math.max(...n)];
}

/** The first and last instant of an item: its interval, or its datetime. */
function itemTimes(item: StacItem): [string, string] | undefined {
  const p = item.properties;
  const start = (p.start_datetime ?? p.datetime) as string | null | undefined;
  const end = (p.end_datetime ?? p.datetime) as string | null | undefined;
  return start && end ? [start, end] : undefined;
}

function temporalExtent(items: readonly StacItem[]): (string | null)[] {
  const times = items.map(itemTimes).filter((t) => t !== undefined);
  if (times.length === 0) return [null, null];
  // RFC 3339 in UTC (toISOString) sorts as text.
  const starts = times.map(([start]) => start).sort();
  const ends = times.map(([, end]) => end).sort();
  return [starts[0], ends[ends.length - 1]];
}

function providersOf(items: readonly StacItem[]): StacCollection['providers'] {
  const backends = new Map<string, string>();
  for (const item of items) backends.set(String(item.properties['openeo:backend']), String(item.properties['openeo:backend_url']));
  return [...backends].sort(([a], [b]) => a.localeCompare(b)).map(([name, url]) => ({ name, roles: ['processor', 'host'], url }));
}

export interface CollectionInput {
  batchId: string;
  settings: StacSettings;
  items: readonly StacItem[];
  /** The link to one item from the collection. @default `./items/<id>.json` */
  itemHref?: (itemId: string) => string;
}

export function stacCollection(input: CollectionInput): StacCollection {
  const { settings, batchId } = input;
  const items = [...input.items].sort((a, b) => a.id.localeCompare(b.id));
  const itemHref = input.itemHref ?? ((id: string) => `./items/${id}.json`);
  return {
    type: 'Collection',
    stac_version: STAC_VERSION,
    stac_extensions: [],
    id: settings.collectionId,
    ...(settings.title !== undefined ? { title: settings.title } : {}),
    description: settings.description ?? `Results of the openeo-temporal batch ${batchId}: one item per tile${items.some((i) => i.properties.start_datetime) ? ' and period' : ''}.`,
    license: settings.license,
    providers: providersOf(items),
    extent: { spatial: { bbox: [spatialExtent(items)] }, temporal: { interval: [temporalExtent(items)] } },
    links: [
      { rel: 'root', href: './collection.json', type: 'application/json' },
      ...items.map((item) => ({ rel: 'item', href: itemHref(item.id), type: 'application/geo+json' })),
    ],
  };
}

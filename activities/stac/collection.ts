/**
 * The STAC Collection of a batch's results, derived from its items: its extent spans every
 * item's bbox and time, its providers are the backends that ran the jobs, and it links to each
 * item. Pure; built whole from items, or grown by the items a stored collection does not link yet.
 */
import type { StacSettings } from '../../src/core/batch-spec/stac-settings';
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
  for (const item of items)
    backends.set(String(item.properties['openeo:backend']), String(item.properties['openeo:backend_url']));
  return [...backends]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, url]) => ({ name, roles: ['processor', 'host'], url }));
}

export interface CollectionInput {
  batchId: string;
  settings: StacSettings;
  items: readonly StacItem[];
  /** The link to one item from the collection. @default `./items/<id>.json` */
  itemHref?: (itemId: string) => string;
}

/** The bbox around two bboxes. */
function unionBbox(a: number[], b: number[]): number[] {
  return [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[2], b[2]), Math.max(a[3], b[3])];
}

function unionInterval(a: (string | null)[], b: (string | null)[]): (string | null)[] {
  const starts = [a[0], b[0]].filter((t): t is string => t !== null).sort();
  const ends = [a[1], b[1]].filter((t): t is string => t !== null).sort();
  return [starts[0] ?? null, ends[ends.length - 1] ?? null];
}

/**
 * `existing` with `added` items folded in: extent, providers and links grow; the items already
 * linked are not read again, so a tile's update costs the same in a batch of any size.
 */
export function extendCollection(existing: StacCollection | undefined, input: CollectionInput): StacCollection {
  const linked = existing?.links.filter((l) => l.rel === 'item') ?? [];
  if (!existing || linked.length === 0) return stacCollection(input);
  if (input.items.length === 0) return existing;
  const fresh = stacCollection(input);
  const providers = new Map(existing.providers.map((p) => [p.name, p]));
  for (const provider of fresh.providers) providers.set(provider.name, provider);
  const links = new Map(linked.map((l) => [l.href, l]));
  for (const link of fresh.links.filter((l) => l.rel === 'item')) links.set(link.href, link);
  return {
    ...fresh,
    description: input.settings.description ?? existing.description,
    providers: [...providers.values()].sort((a, b) => a.name.localeCompare(b.name)),
    extent: {
      spatial: { bbox: [unionBbox(existing.extent.spatial.bbox[0], fresh.extent.spatial.bbox[0])] },
      temporal: { interval: [unionInterval(existing.extent.temporal.interval[0], fresh.extent.temporal.interval[0])] },
    },
    links: [fresh.links[0], ...[...links.values()].sort((a, b) => a.href.localeCompare(b.href))],
  };
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
    description:
      settings.description ??
      `Results of the openeo-temporal batch ${batchId}: one item per tile${items.some((i) => i.properties.start_datetime) ? ' and period' : ''}.`,
    license: settings.license,
    providers: providersOf(items),
    extent: { spatial: { bbox: [spatialExtent(items)] }, temporal: { interval: [temporalExtent(items)] } },
    links: [
      { rel: 'root', href: './collection.json', type: 'application/json' },
      ...items.map((item) => ({ rel: 'item', href: itemHref(item.id), type: 'application/geo+json' })),
    ],
  };
}

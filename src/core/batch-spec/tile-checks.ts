/**
 * The front door's checks of a batch's tiles, before any job: that they can be derived, that
 * there are no more than the user confirmed (`maxTiles`), that grid tiles have a sane size, that
 * no tile's outline crosses itself, and that every tile has what the process needs (mapped
 * properties, backends the spec lists). Every problem is listed, not only the first.
 */
import { InvalidTileJobOptionsError, MissingTilePropertyError, tileArguments, tileJobOptions } from './arguments';
import { resolveCrs } from './crs';
import { SpecError, type SpecErrorDetails } from './errors';
import { MAX_TILE_SIZE_DEGREES, MAX_TILE_SIZE_PROJECTED } from './limits';
import type { Period } from './periods';
import { planFeatureCollection } from './tile-features';
import { areaBoundingTiling, isAreaTiling, planAreaTiling } from './tile-area';
import { aoiTilingProblems, planAoiTiling } from './tile-grid';
import { tileInPeriod, withPeriods } from './tile-periods';
import type { AoiTiling, AreaTiling, Tile, TileFeatureCollection, TilePlan, TileSource } from './tile-types';
import { selfIntersection } from './tile-validity';

/** What the tiles are checked against; the spec's parts are absent when the spec itself is invalid. */
export interface TileCheckContext {
  maxTiles: number;
  backendNames?: ReadonlySet<string>;
  parameterDefaults?: Record<string, unknown>;
  parameterMapping?: Record<string, string>;
  /** The batch's periods: every place runs once per period. */
  periods?: readonly Period[];
  jobOptionsProperty?: string;
}

export interface TileCheck {
  /** The tiles, when they could be derived. */
  plan?: TilePlan;
  problems: SpecErrorDetails[];
}

/** Problems of one kind listed at most this often; the rest are counted in one more line. */
const MAX_LISTED_PER_CODE = 10;

const details = (err: SpecError): SpecErrorDetails => ({
  field: err.field,
  problem: err.problem,
  fix: err.fix,
  code: err.code,
});

/** A grid's tiles, over a bounding box or an outline: every tile has the same properties. */
function isAoi(source: TileSource): boolean {
  return typeof source === 'object' && source !== null && 'aoi' in source;
}

/** Keeps the first few problems of each kind, so a million bad tiles give a readable answer. */
export function condense(problems: SpecErrorDetails[]): SpecErrorDetails[] {
  const seen = new Map<string, number>();
  const kept: SpecErrorDetails[] = [];
  for (const problem of problems) {
    const count = (seen.get(problem.code) ?? 0) + 1;
    seen.set(problem.code, count);
    if (count <= MAX_LISTED_PER_CODE) kept.push(problem);
  }
  for (const [code, count] of seen) {
    if (count <= MAX_LISTED_PER_CODE) continue;
    const first = problems.find((p) => p.code === code) as SpecErrorDetails;
    kept.push({
      field: 'tiles',
      code,
      problem: `${count - MAX_LISTED_PER_CODE} more tiles have the problem above (${code})`,
      fix: first.fix,
    });
  }
  return kept;
}

function numbersOf(tiling: AoiTiling): number[] | undefined {
  const { west, south, east, north } = tiling.aoi ?? {};
  const values: unknown[] = [west, south, east, north, tiling.tileSize];
  return values.every((v) => typeof v === 'number' && Number.isFinite(v)) ? (values as number[]) : undefined;
}

/**
 * A tile larger than the whole AOI, or larger than any sane job: refused with the reason. Only
 * usable numbers are judged here; the grid's own checks report the others.
 */
export function tileSizeProblems(tiling: AoiTiling): SpecErrorDetails[] {
  const numbers = numbersOf(tiling);
  if (!numbers || numbers[4] <= 0) return [];
  const [west, south, east, north, size] = numbers;
  const problems: SpecErrorDetails[] = [];
  const [width, height] = [east - west, north - south].map((d) => Number(d.toPrecision(12)));
  const side = Math.max(width, height);
  if (side > 0 && size > side * (1 + 1e-9)) {
    problems.push({
      field: 'tiles.tileSize',
      code: 'tile_larger_than_aoi',
      problem: `${size} is larger than the AOI itself (${width} × ${height}): its one tile would reach far past the AOI`,
      fix: `use a tileSize of at most ${side} (one tile over the whole AOI), or smaller to split it`,
    });
  }
  let geographic: boolean | undefined;
  try {
    geographic = resolveCrs(tiling.aoi.crs).geographic;
  } catch {
    // An unknown CRS is reported by the grid's own checks.
  }
  const limit = geographic ? MAX_TILE_SIZE_DEGREES : MAX_TILE_SIZE_PROJECTED;
  const units = geographic ? '°' : ' (metres, in a projected CRS)';
  if (geographic !== undefined && size > limit) {
    problems.push({
      field: 'tiles.tileSize',
      code: 'tile_too_large',
      problem: `${size} is more than the largest tile accepted, ${limit}${units}`,
      fix: `use a tileSize of at most ${limit}, and check that it is in the units of ${tiling.aoi.crs}`,
    });
  }
  return problems;
}

/** The plan of the tiles, or why they cannot be derived (a grid names every bad field). */
function derive(source: TileSource): TileCheck {
  if (isAreaTiling(source)) return deriveArea(source);
  if (isAoi(source)) {
    const problems = [...aoiTilingProblems(source as AoiTiling).map(details), ...tileSizeProblems(source as AoiTiling)];
    if (problems.length > 0) return { problems };
  }
  try {
    return {
      plan: isAoi(source) ? planAoiTiling(source as AoiTiling) : planFeatureCollection(source as TileFeatureCollection),
      problems: [],
    };
  } catch (err) {
    if (err instanceof SpecError) return { problems: [details(err)] };
    throw err;
  }
}

/** An outline under a grid: the outline's own problems, else the grid's size over its bounding box. */
function deriveArea(source: AreaTiling): TileCheck {
  const bounding = areaBoundingTiling(source);
  const sizes = bounding ? tileSizeProblems(bounding) : [];
  if (sizes.length > 0) return { problems: sizes };
  try {
    return { plan: planAreaTiling(source), problems: [] };
  } catch (err) {
    if (err instanceof SpecError) return { problems: [details(err)] };
    throw err;
  }
}

function sizeProblem(plan: TilePlan, maxTiles: number): SpecErrorDetails {
  const n = (v: number) => v.toLocaleString('en-US');
  const count = plan.count;
  const pairs = plan.places
    ? ` (${n(plan.places.count)} places × ${n(count / Math.max(1, plan.places.count))} periods)`
    : '';
  return {
    field: 'maxTiles',
    code: 'too_many_tiles_unconfirmed',
    problem: `the batch has ${n(count)} tiles${pairs}, more than maxTiles (${n(maxTiles)}), so it starts only when confirmed`,
    fix: `check tiles (the tileSize and the AOI) first; to run ${n(count)} jobs, start it with \`openeo-temporal start --yes\` (client.start(spec, { confirmSize: true })) or set "maxTiles": ${count} in the spec`,
  };
}

/** Mapped properties and pinned backends of one tile. */
function tileProblems(tile: Tile, position: number, context: TileCheckContext): SpecErrorDetails[] {
  const problems: SpecErrorDetails[] = [];
  if (context.parameterDefaults && context.parameterMapping) {
    try {
      tileArguments(tile, context.parameterDefaults, context.parameterMapping);
    } catch (err) {
      if (!(err instanceof MissingTilePropertyError)) throw err;
      problems.push({ field: err.field, problem: err.message, fix: 'map an existing tile property', code: err.code });
    }
  }
  if (context.jobOptionsProperty !== undefined) {
    try {
      tileJobOptions(tile, undefined, context.jobOptionsProperty);
    } catch (err) {
      if (!(err instanceof InvalidTileJobOptionsError)) throw err;
      problems.push({
        field: `tiles.features[${position}].properties.${context.jobOptionsProperty}`,
        problem: err.message,
        fix: 'give an object of openEO job options, or leave the property out',
        code: 'invalid_tile_job_options',
      });
    }
  }
  const { backend, backends } = tile.properties;
  const pinned = typeof backend === 'string' ? [backend] : Array.isArray(backends) ? backends : [];
  const names = context.backendNames;
  const unknown = names ? pinned.find((name) => typeof name !== 'string' || !names.has(name)) : undefined;
  if (unknown !== undefined && names) {
    problems.push({
      field: `tiles.features[${position}].properties`,
      problem: `tile "${tile.id}" asks for backend ${JSON.stringify(unknown)}, which the spec does not list`,
      fix: `use one of: ${[...names].join(', ')}`,
      code: 'unknown_backend',
    });
  }
  return problems;
}

function crossingProblem(tile: Tile, position: number): SpecErrorDetails[] {
  const crossing = selfIntersection(tile.geometry);
  if (!crossing) return [];
  return [
    {
      field: `tiles.features[${position}].geometry`,
      code: 'self_intersecting',
      problem: `tile "${tile.id}" is not a valid polygon: its outline crosses itself at [${crossing.map((c) => Number(c.toFixed(7))).join(', ')}]`,
      fix: 'fix the polygon (e.g. QGIS "Fix geometries", or shapely make_valid) or split it into simple polygons',
    },
  ];
}

/**
 * Checks a tile source; returns its plan (when the tiles can be derived) and every problem.
 * A grid's tiles all have the same properties, so only its first is checked for them; a
 * FeatureCollection is in memory anyway, so each of its tiles is checked, unless there are
 * more than `maxTiles` of them.
 */
export function checkTileSource(source: TileSource, context: TileCheckContext): TileCheck {
  const derived = derive(source);
  if (!derived.plan) return derived;
  const places = derived.plan;
  const plan = withPeriods(places, context.periods);
  if (plan.count > context.maxTiles) return { plan, problems: [sizeProblem(plan, context.maxTiles)] };
  const problems: SpecErrorDetails[] = [];
  // Every period of a place has the place's properties, so the first period stands for all.
  const firstPeriod = context.periods?.[0];
  const checkCount = isAoi(source) ? Math.min(1, places.count) : places.count;
  for (let i = 0; i < checkCount; i++) {
    const place = places.tileAt(i);
    const tile = firstPeriod ? tileInPeriod(place, firstPeriod, i * (context.periods?.length ?? 1)) : place;
    problems.push(...tileProblems(tile, i, context));
    if (!isAoi(source)) problems.push(...crossingProblem(place, i));
  }
  return { plan, problems: condense(problems) };
}

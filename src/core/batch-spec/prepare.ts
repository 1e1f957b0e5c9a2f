/**
 * Every check of a batch spec that needs no network: schema, tiling (its size included),
 * parameter mapping, pinned backends. The CLI and client run it before starting a batch; the
 * worker runs it again in `prepareBatch`, together with the checks that need files, URLs and
 * backends. Every problem is reported at once: the tiles are checked even when other parts of
 * the spec are wrong, so an unknown CRS shows up beside a bad backend, not after it is fixed.
 */
import type { SpecErrorDetails } from './errors';
import { DEFAULT_MAX_TILES } from './limits';
import { PERIOD_SOURCES } from './arguments';
import { periodsOrProblem, type Period } from './periods';
import { tilesSchema, type BatchSpec } from './schema';
import { isAreaTiling } from './tile-area';
import { checkTileSource, type TileCheckContext } from './tile-checks';
import type { TilePlan, TileSource } from './tile-types';
import { InvalidSpecError, readBatchSpec } from './validate';

/** A spec that passed every check, with defaults filled in, and its number of tiles. */
export interface PreparedBatch {
  /** The spec, every default filled in. */
  spec: BatchSpec;
  /** Known offline for AOI and inline tiles; for file and URL tiles once the worker read them. */
  totalTiles: number;
  /** For file and URL tiles: the SHA-256 of the source, so a changed file is noticed. */
  tileFingerprint?: string;
}

/** What the offline checks found: the spec and its tiles as far as they could be read, and every problem. */
export interface SpecInspection {
  /** The spec with defaults filled in, when the schema accepts it. */
  spec?: BatchSpec;
  /** The tiles, when they can be derived offline (an AOI grid or an inline collection). */
  tiles?: TilePlan;
  /** What the tiles were derived from: the spec's AOI or inline collection, defaults filled in. */
  source?: TileSource;
  /** Every problem found, each with its field and fix; empty when the spec passes. */
  problems: SpecErrorDetails[];
}

/**
 * Inline tiles travel in the batch's workflow input, and Temporal warns about payloads above
 * 512 KB (and refuses them above 2 MB): larger tile sets belong in a file or at a URL.
 */
export const MAX_INLINE_TILES_BYTES = 256 * 1024;

/** An area's outline is sent with every page of tiles, so it is held to less. */
export const MAX_INLINE_AOI_BYTES = 128 * 1024;

function inlineSizeProblems(spec: BatchSpec): SpecErrorDetails[] {
  if (isAreaTiling(spec.tiles)) return outlineSizeProblems(spec.tiles.aoi);
  if (!('features' in spec.tiles)) return [];
  const bytes = new TextEncoder().encode(JSON.stringify(spec.tiles)).length;
  if (bytes <= MAX_INLINE_TILES_BYTES) return [];
  return [
    {
      field: 'tiles',
      problem: `the inline FeatureCollection has ${Math.round(bytes / 1024)} KB, more than ${MAX_INLINE_TILES_BYTES / 1024} KB can travel in a workflow input`,
      fix: 'put the tiles in a GeoJSON file every worker can read ({"file": "tiles.geojson"}) or at a URL ({"url": "https://…/tiles.geojsonl"})',
      code: 'inline_tiles_too_large',
    },
  ];
}

/** An outline travels in the workflow input and every page request: keep it small. */
function outlineSizeProblems(aoi: unknown): SpecErrorDetails[] {
  const bytes = new TextEncoder().encode(JSON.stringify(aoi)).length;
  if (bytes <= MAX_INLINE_AOI_BYTES) return [];
  return [
    {
      field: 'tiles.aoi',
      problem: `the outline has ${Math.round(bytes / 1024)} KB, more than ${MAX_INLINE_AOI_BYTES / 1024} KB (it travels in the workflow input and with every page of tiles)`,
      fix: 'simplify it to about the tile size (e.g. `mapshaper in.geojson -simplify 10% -o out.geojson`, or QGIS "Simplify"): the grid needs no more detail than its cells',
      code: 'inline_aoi_too_large',
    },
  ];
}

function withoutPeriodSources(mapping: Record<string, string>): Record<string, string> {
  const sources: readonly string[] = PERIOD_SOURCES;
  return Object.fromEntries(Object.entries(mapping).filter(([, source]) => !sources.includes(source)));
}

function contextOf(spec: BatchSpec, periods?: readonly Period[]): TileCheckContext {
  return {
    maxTiles: spec.maxTiles,
    backendNames: new Set(spec.backends.map((b) => b.name)),
    parameterDefaults: spec.parameterDefaults,
    // Periods that cannot be read are reported once, not again for every tile that lacks one.
    parameterMapping: spec.periods && !periods ? withoutPeriodSources(spec.parameterMapping) : spec.parameterMapping,
    ...(periods ? { periods } : {}),
    ...(spec.jobOptionsProperty !== undefined ? { jobOptionsProperty: spec.jobOptionsProperty } : {}),
  };
}

/**
 * The spec's periods and their problems: a period spec that yields nothing, or periods that no
 * parameter receives (every period's job would be the same job).
 */
export function periodProblems(spec: BatchSpec): { periods?: Period[]; problems: SpecErrorDetails[] } {
  const { periods, problem } = periodsOrProblem(spec.periods);
  if (problem)
    return { problems: [{ field: problem.field, problem: problem.problem, fix: problem.fix, code: problem.code }] };
  if (!periods) return { problems: [] };
  const sources: readonly string[] = PERIOD_SOURCES;
  // A job factory receives each tile's period itself and builds the job from it.
  if (spec.jobFactory !== undefined) return { periods, problems: [] };
  if (Object.values(spec.parameterMapping).some((source) => sources.includes(source))) return { periods, problems: [] };
  return {
    periods,
    problems: [
      {
        field: 'parameterMapping',
        code: 'period_unused',
        problem: `the batch has ${periods.length} periods, but no parameter receives the period, so every tile would run the same job ${periods.length} times`,
        fix: 'map the period to the process, e.g. "parameterMapping": {"geometry": "geometry", "temporal_extent": "temporal_extent"} ("period" gives the period id)',
      },
    ],
  };
}

/**
 * Tiles of a spec the schema refused, when they look like an AOI or a FeatureCollection: with
 * their defaults when the tiles themselves are fine, else as given, for the tiles' own messages.
 */
function rawTiles(input: unknown): TileSource | undefined {
  const tiles = (input as { tiles?: unknown } | null)?.tiles;
  if (typeof tiles !== 'object' || tiles === null) return undefined;
  const looksLike = 'aoi' in tiles || (tiles as { type?: unknown }).type === 'FeatureCollection';
  if (!looksLike) return undefined;
  const read = tilesSchema.safeParse(tiles);
  return (read.success ? read.data : tiles) as TileSource;
}

function rawMaxTiles(input: unknown): number {
  const value = (input as { maxTiles?: unknown } | null)?.maxTiles;
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 ? value : DEFAULT_MAX_TILES;
}

/** Schema problems and the tiles' own, without the schema's vague "tiles: no allowed form" when the tiles say more. */
function merged(schemaIssues: SpecErrorDetails[], tileProblems: SpecErrorDetails[]): SpecErrorDetails[] {
  const specific = tileProblems.some((p) => p.field.startsWith('tiles'));
  const issues = specific
    ? schemaIssues.filter((i) => !(i.field === 'tiles' && i.code === 'invalid_choice'))
    : schemaIssues;
  const seen = new Set(issues.map((i) => `${i.field}\n${i.problem}`));
  return [...issues, ...tileProblems.filter((p) => !seen.has(`${p.field}\n${p.problem}`))];
}

/** Every offline problem of a spec, and as much of the spec and its tiles as could be read. */
export function inspectSpecOffline(input: unknown): SpecInspection {
  const read = readBatchSpec(input);
  if (read.issues) {
    const source = rawTiles(input);
    const tiles = source ? checkTileSource(source, { maxTiles: rawMaxTiles(input) }) : { problems: [] };
    return { tiles: tiles.plan, source, problems: merged(read.issues, tiles.problems) };
  }
  const { spec } = read;
  const periods = periodProblems(spec);
  if ('file' in spec.tiles || 'url' in spec.tiles) return { spec, problems: periods.problems };
  const source = spec.tiles as TileSource;
  const tiles = checkTileSource(source, contextOf(spec, periods.periods));
  return {
    spec,
    tiles: tiles.plan,
    source,
    problems: [...periods.problems, ...inlineSizeProblems(spec), ...tiles.problems],
  };
}

/**
 * Checks tiles read from a file or URL against their spec; returns their number. Throws
 * {@link InvalidSpecError} listing every problem.
 */
export function checkTilesOffline(spec: BatchSpec, source: TileSource): number {
  const periods = periodProblems(spec);
  const { plan, problems } = checkTileSource(source, contextOf(spec, periods.periods));
  problems.unshift(...periods.problems);
  if (problems.length > 0 || !plan) throw new InvalidSpecError(problems);
  return plan.count;
}

/**
 * Throws {@link InvalidSpecError} naming each offending field. For file and URL tiles only the
 * spec itself is checked here (`totalTiles` is then 0): the worker reads and checks the tiles.
 */
export function checkSpecOffline(input: unknown): PreparedBatch {
  const { spec, tiles, problems } = inspectSpecOffline(input);
  if (problems.length > 0 || !spec) throw new InvalidSpecError(problems);
  return { spec, totalTiles: tiles?.count ?? 0 };
}

/**
 * Validation of a batch spec, with messages that name the field and say what to do. Runs in
 * the CLI and client before a batch starts, and again in the worker (`prepareBatch`) because a
 * batch may also be started with the plain Temporal CLI.
 */
import type { z } from 'zod';
import { batchSpecSchema, type BatchSpec } from './schema';
import { InvalidSpecError, type SpecErrorDetails } from './errors';

export { InvalidSpecError };

/** `['backends', 0, 'name']` → `backends[0].name`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return (
    path.reduce<string>(
      (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)),
      '',
    ) || '(the spec itself)'
  );
}

const UNION_FIXES: Record<string, string> = {
  process: 'give either {"processId": "...", "namespace": "<UDP URL>"} or {"processGraph": {...}}',
  periods:
    'give either {"every": "month" | "quarter" | "year", "start": "2024-01-01", "end": "2025-01-01"} or {"ranges": [["2024-01-01", "2024-04-01"], …]}',
  tiles:
    'give either {"aoi": {"west","south","east","north","crs"}, "tileSize": N}, {"aoi": <GeoJSON Polygon or MultiPolygon>, "crs": "EPSG:3035", "tileSize": N, "clip": false}, a GeoJSON FeatureCollection, {"file": "tiles.geojson"} or {"url": "https://…/tiles.geojsonl"}',
};

function toDetails(issue: z.core.$ZodIssue): SpecErrorDetails {
  const field = fieldPath(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return {
        field,
        code: 'unknown_field',
        problem: `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`,
        fix: 'remove them or check their spelling',
      };
    case 'invalid_union':
      return {
        field,
        code: 'invalid_choice',
        problem: 'does not match any allowed form',
        fix: UNION_FIXES[field] ?? 'check docs/spec.md for the allowed forms',
      };
    case 'invalid_type':
      return {
        field,
        code: 'invalid_type',
        problem: issue.input === undefined ? 'is missing' : issue.message,
        fix: `set it to a ${issue.expected}`,
      };
    case 'custom':
      // A refinement may say how to fix its problem (`params.fix`).
      return {
        field,
        code: issue.code,
        problem: issue.message,
        fix: (issue.params?.fix as string | undefined) ?? 'correct the value',
      };
    default:
      return { field, code: issue.code, problem: issue.message, fix: 'correct the value' };
  }
}

/** The spec with defaults filled in, or every problem the schema finds. */
export function readBatchSpec(
  input: unknown,
): { spec: BatchSpec; issues?: undefined } | { spec?: undefined; issues: SpecErrorDetails[] } {
  const result = batchSpecSchema.safeParse(input);
  return result.success ? { spec: result.data } : { issues: result.error.issues.map(toDetails) };
}

/** Validates and fills in defaults; throws {@link InvalidSpecError} listing every problem. */
export function parseBatchSpec(input: unknown): BatchSpec {
  const read = readBatchSpec(input);
  if (read.issues) throw new InvalidSpecError(read.issues);
  return read.spec;
}

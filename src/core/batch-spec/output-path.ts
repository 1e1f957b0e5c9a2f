/**
 * The output path template (`outputPath` in the spec): where under `outputDir` a tile's files go,
 * e.g. `{batchId}/{tileId}/{period}/{asset}`. Pure, so the spec's validation, the workflows and
 * the activities read it the same way.
 *
 * `{asset}` is always the whole last segment: everything before it is the tile's folder, so a
 * tile's record keeps naming its folder and its files by their plain names (`openEO.tif`,
 * `job.json`, `quicklook.png`), and every reader (dashboard, exports, CLI) finds them as before.
 */

/** Today's layout: `<outputDir>/<batchId>/<tileId>/<file>`. */
export const DEFAULT_OUTPUT_PATH = '{batchId}/{tileId}/{asset}';

export const OUTPUT_PATH_PLACEHOLDERS = ['batchId', 'tileId', 'place', 'period', 'backend', 'jobId', 'asset'] as const;
export type OutputPathPlaceholder = (typeof OUTPUT_PATH_PLACEHOLDERS)[number];

/** What the placeholders of a tile's folder stand for (`{asset}` is each file's name). */
export interface TileFolderValues {
  batchId: string;
  tileId: string;
  /** The tile property `period.id`; absent when the batch has no `periods`. */
  period?: string;
  /** The tile's id without its period (`E590000-N5660000` of `E590000-N5660000_2024-03`). */
  place?: string;
  backend: string;
  jobId: string;
}

/** A template problem: what is wrong and how to fix it. */
export interface OutputPathProblem {
  problem: string;
  fix: string;
}

const PLACEHOLDER = /\{([^{}]*)\}/g;
const EXAMPLE = `e.g. "{batchId}/{tileId}/{asset}" or "{batchId}/{place}/{period}/{asset}"`;

function placeholdersIn(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((match) => match[1]!);
}

function shapeProblem(template: string): OutputPathProblem | undefined {
  if (/^([/\\]|[A-Za-z]:)/.test(template) || template.includes('://')) {
    return {
      problem: 'must be relative to outputDir, not an absolute path or URL',
      fix: `drop the leading part; ${EXAMPLE}`,
    };
  }
  if (template.includes('\\'))
    return { problem: 'must separate folders with "/", not "\\"', fix: 'use "/" between folders' };
  const segments = template.split('/');
  if (segments.some((segment) => segment === '..' || segment === '.')) {
    return {
      problem: 'must not contain "." or ".." folders: results would land outside outputDir',
      fix: `remove them; ${EXAMPLE}`,
    };
  }
  if (segments.some((segment) => segment === ''))
    return {
      problem: 'has an empty folder name (a leading, trailing or double "/")',
      fix: `remove the extra "/"; ${EXAMPLE}`,
    };
  if (template.replace(PLACEHOLDER, '').match(/[{}]/))
    return { problem: 'has an unmatched "{" or "}"', fix: 'write each placeholder as {name}' };
  return undefined;
}

/** Every problem of a template, given whether the batch has `periods`. Empty when it is fine. */
export function outputPathProblems(template: string, hasPeriods: boolean): OutputPathProblem[] {
  const shape = shapeProblem(template);
  if (shape) return [shape];
  const problems: OutputPathProblem[] = [];
  const used = placeholdersIn(template);
  const unknown = used.filter((name) => !(OUTPUT_PATH_PLACEHOLDERS as readonly string[]).includes(name));
  if (unknown.length > 0) {
    problems.push({
      problem: `unknown placeholder(s) ${unknown.map((n) => `{${n}}`).join(', ')}`,
      fix: `use only ${OUTPUT_PATH_PLACEHOLDERS.map((n) => `{${n}}`).join(', ')}`,
    });
  }
  const segments = template.split('/');
  if (segments[segments.length - 1] !== '{asset}' || used.filter((name) => name === 'asset').length !== 1) {
    problems.push({
      problem: 'must end with "/{asset}" (the file name) and use {asset} nowhere else',
      fix: `put {asset} last; ${EXAMPLE}`,
    });
  }
  // With periods a tile id already carries its period (`<place>_<period>`): {tileId} alone is
  // unique, and so are {place} and {period} together.
  const unique = used.includes('tileId') || (used.includes('place') && (used.includes('period') || !hasPeriods));
  if (!unique) {
    const fix = hasPeriods
      ? 'add {tileId}, or both {place} and {period}, e.g. "{batchId}/{place}/{period}/{asset}"'
      : `add {tileId}; ${EXAMPLE}`;
    problems.push({ problem: 'must name each tile apart ({tileId}), or tiles would overwrite each other', fix });
  }
  if (!hasPeriods && used.includes('period'))
    problems.push({
      problem: 'uses {period} but the batch has no periods',
      fix: 'remove {period} or add "periods" to the spec',
    });
  return problems;
}

/** A value must stay one folder name: no separators, not `.`/`..`, not empty. */
function safeSegmentValue(name: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new Error(`outputPath uses {${name}}, but this tile has no ${name}`);
  if (/[/\\]/.test(value) || value === '.' || value === '..')
    throw new Error(`outputPath: {${name}} = "${value}" would leave its folder`);
  return value;
}

/**
 * The folder relative to `outputDir` that holds every tile folder of a batch: the template's
 * leading segments until one that differs by tile, `{batchId}` filled in (`b1` for the default
 * layout, `composites/b1` for `composites/{batchId}/{period}/{place}/{asset}`, and `""` for
 * `{backend}/{batchId}/…`, whose batch spans folders of several backends).
 */
export function batchFolderKey(template: string, batchId: string): string {
  const fixed: string[] = [];
  for (const segment of template.split('/').slice(0, -1)) {
    if (placeholdersIn(segment).some((name) => name !== 'batchId')) break;
    fixed.push(segment.replace(PLACEHOLDER, batchId));
  }
  return fixed.join('/');
}

/**
 * The tile's folder relative to `outputDir` (`b1/t3/2024-03`): the template without its last
 * segment, filled in. Throws when a value is missing or would climb out of `outputDir`.
 */
export function tileFolderKey(template: string, values: TileFolderValues): string {
  const folder = template.split('/').slice(0, -1).join('/');
  const filled = folder.replace(PLACEHOLDER, (_, name: string) => {
    // A job id comes from the backend: reduced to a safe alphabet rather than trusted.
    if (name === 'jobId') return safeSegmentValue(name, values.jobId.replace(/[^A-Za-z0-9._-]/g, '_'));
    if (name === 'place') return safeSegmentValue(name, values.place ?? placeOf(values.tileId, values.period));
    return safeSegmentValue(name, values[name as keyof TileFolderValues]);
  });
  const segments = filled.split('/');
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw new Error(`outputPath "${template}" gives the folder "${filled}", which leaves outputDir`);
  }
  return filled;
}

/** The tile property `period.id` (see the spec's `periods`), read tolerantly; undefined without one. */
export function tilePeriodId(properties: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const period = properties?.period;
  if (typeof period !== 'object' || period === null) return undefined;
  const id = (period as { id?: unknown }).id;
  return typeof id === 'string' ? id : undefined;
}

/** A tile id without its period suffix: the place it covers (the id itself without periods). */
export function placeOf(tileId: string, period: string | undefined): string {
  return period !== undefined && tileId.endsWith(`_${period}`) ? tileId.slice(0, -period.length - 1) : tileId;
}

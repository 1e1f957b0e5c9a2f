/**
 * What a batch's own page in the Temporal UI says about it before any tile runs: a one-line
 * summary and a few lines of details (markdown), the workflow's static summary and details.
 * Made from the spec alone, so the client can give them when it starts the batch.
 */
import type { BatchSpecInput } from './batch-spec/schema';
import { hookLabel } from './hooks/remote';

/** A batch's static summary and details (markdown). */
export interface BatchHeadline {
  summary: string;
  details: string;
}

/** What runs on every tile: the process's id, a graph, or the job factory that builds each job. */
function processLine(spec: BatchSpecInput): string {
  if (spec.jobFactory !== undefined) return `jobs built by the job factory \`${hookLabel(spec.jobFactory)}\``;
  const process = spec.process;
  if (process === undefined) return 'no process';
  if ('processId' in process) return `\`${process.processId}\`${process.namespace ? ` from ${process.namespace}` : ''}`;
  return `a process graph of ${Object.keys(process.processGraph).length} node(s)`;
}

/** Where the tiles come from, in a few words. */
function tilesLine(tiles: BatchSpecInput['tiles']): string {
  if ('file' in tiles) return `tiles from the file ${tiles.file}`;
  if ('url' in tiles) return `tiles from ${tiles.url}`;
  if ('features' in tiles) return `${(tiles.features as unknown[]).length} tile(s) given as features`;
  const crs =
    'crs' in tiles && typeof tiles.crs === 'string'
      ? tiles.crs
      : 'aoi' in tiles && 'crs' in tiles.aoi
        ? String(tiles.aoi.crs)
        : 'EPSG:4326';
  return `a grid of ${tiles.tileSize} (${crs} units) tiles over the area`;
}

function periodsLine(periods: BatchSpecInput['periods']): string | undefined {
  if (periods === undefined) return undefined;
  if ('every' in periods) return `every ${periods.every} from ${periods.start} to ${periods.end}`;
  return `${periods.ranges.length} period(s)`;
}

/** The static summary and details of the batch `batchId` of `spec`. */
export function batchHeadline(spec: BatchSpecInput, batchId: string): BatchHeadline {
  const backends = spec.backends.map((b) => `${b.name} (${b.parallelJobs ?? 2} at once)`).join(', ');
  const periods = periodsLine(spec.periods);
  const summary = `openEO batch ${spec.title ?? batchId}: ${processLine(spec)} on ${spec.backends.map((b) => b.name).join(', ')}`;
  const details = [
    `**Batch** ${batchId}${spec.title ? `: ${spec.title}` : ''}`,
    `**Process**: ${processLine(spec)}`,
    `**Tiles**: ${tilesLine(spec.tiles)}${spec.maxAttempts !== undefined ? `, up to ${spec.maxAttempts} job(s) each` : ''}`,
    ...(periods ? [`**Periods**: ${periods}`] : []),
    `**Backends**: ${backends}`,
    `**Output**: ${spec.outputDir ?? './output'}`,
  ].join('\n\n');
  return { summary, details };
}

/**
 * The batch's current details with its headline under them: a batch started without a static
 * summary and details (the plain Temporal CLI) still says on its page what it is.
 */
export function detailsWithHeadline(details: string, spec: BatchSpecInput, batchId: string): string {
  return `${details}\n\n---\n\n${batchHeadline(spec, batchId).details}`;
}

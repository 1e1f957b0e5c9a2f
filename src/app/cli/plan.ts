/**
 * `openeo-temporal plan <spec.json>`: checks a batch and works out its tiles, backends, size
 * and duration, without creating a job or starting a workflow (see src/app/plan/index.ts). Exits with 1
 * when `start` would refuse the batch.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import { createPlanMap } from '../dashboard';
import { planBatch } from '../plan';
import { runPilot } from '../plan/pilot';
import { connectClient } from './cli-errors';
import { DEFAULT_DASHBOARD_PORT, port, serveUntilStopped } from './dashboard';
import { planText } from './plan-text';
import { readSpecFile } from './spec-file';

interface PlanFlags {
  tilesOut?: string;
  json?: boolean;
  jobMinutes?: number;
  offline?: boolean;
  batchId?: string;
  map?: boolean;
  port: number;
  host: string;
  pilot?: number;
  taskQueue: string;
}

function tileCount(value: string): number {
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1) throw new InvalidArgumentError('expected a number of tiles, such as 3');
  return count;
}

function minutes(value: string): number {
  const m = Number(value);
  if (!Number.isFinite(m) || m <= 0) throw new InvalidArgumentError('expected a number of minutes, such as 20');
  return m;
}

async function plan(specPath: string, flags: PlanFlags): Promise<void> {
  const spec = await readSpecFile(specPath);
  let result = await planBatch(
    flags.batchId && spec.batchId === undefined ? { ...spec, batchId: flags.batchId } : spec,
    {
      offline: flags.offline,
      typicalJobMinutes: flags.jobMinutes,
    },
  );
  if (flags.pilot !== undefined) {
    // A unique id: a pilot run again must not meet the last one's workflow or folder.
    const pilotId = `${String(spec.batchId ?? flags.batchId ?? 'plan')}-pilot-${Date.now().toString(36)}`;
    console.error(
      `running the first ${flags.pilot} tiles as batch ${pilotId} (real jobs, real credits) to project the costs…`,
    );
    result = await runPilot(await connectClient({ taskQueue: flags.taskQueue }), spec, result, flags.pilot, pilotId);
  }
  if (flags.tilesOut && result.tiles) await writeFile(flags.tilesOut, JSON.stringify(result.tiles));
  const tilesFile = flags.tilesOut && result.tiles ? flags.tilesOut : undefined;
  if (flags.json) {
    const { tiles: _tiles, ...rest } = result;
    console.log(JSON.stringify({ ...rest, ...(tilesFile ? { tilesFile } : {}) }, null, 2));
  } else {
    console.log(planText(result, specPath, tilesFile));
  }
  // The problems are printed above; the exit code tells scripts that `start` would refuse it.
  if (!result.ok) process.exitCode = 1;
  if (flags.map && result.tiles) {
    const title = `plan of ${String(spec.batchId ?? flags.batchId ?? specPath)}`;
    await serveUntilStopped(
      createPlanMap(result.tiles, { title }),
      flags.host,
      flags.port,
      `the ${result.tiles.features.length} planned tiles`,
    );
  }
}

export function registerPlanCommand(program: Command): void {
  program
    .command('plan')
    .description('check a batch and show its tiles, backends, size and duration, without creating any job')
    .argument('<spec>', 'batch spec (JSON)')
    .option('--tiles-out <file>', 'write the tiles as GeoJSON (EPSG:4326), each with the backend it would go to')
    .option('--json', 'print the plan as JSON (without the tiles; see --tiles-out)')
    .option('--job-minutes <minutes>', 'how long a typical job takes, for an estimated duration', minutes)
    .option('--offline', 'only the checks that need no network (no namespace, no backend)')
    .option(
      '--pilot <tiles>',
      'run the first tiles as a small batch (real jobs, real credits; needs Temporal and a worker) and project the costs from them',
      tileCount,
    )
    .option('--task-queue <name>', 'task queue of the workers, with --pilot', 'openeo')
    .option('--batch-id <id>', 'batch id, when the spec has none')
    .option('--map', 'then show the planned tiles on the map page (as `dashboard` does; Ctrl-C stops it)')
    .option('--port <port>', "the map page's HTTP port, with --map (0: a free one)", port, DEFAULT_DASHBOARD_PORT)
    .option('--host <host>', 'the interface the map page listens on, with --map', '127.0.0.1')
    .action((specPath: string, flags: PlanFlags) => plan(specPath, flags));
}

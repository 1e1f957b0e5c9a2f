/**
 * The batch spec: the one JSON document that describes a batch. It is the input of
 * `batchWorkflow`, so it must stay plain JSON that `temporal workflow start --input-file`
 * can send, and it must never hold a secret: credentials live on the worker.
 */
import { z } from 'zod';
import { JOB_START_WINDOW_SECONDS, MIN_REQUESTS_PER_SECOND } from '../quota/limits';
import { DEFAULT_MAX_TILES, MAX_TILES } from './limits';
import { stacSchema } from './stac';
import { checkOutputPath, DEFAULT_OUTPUT_PATH, outputDirSchema } from './output-schema';
import { TIMEOUT_DEFAULTS } from './timeout-defaults';
import { remoteHookSchema } from '../hooks/contract';

/** Names end up in workflow ids and folder names, so keep them to a safe alphabet. */
const safeName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits, ".", "_" or "-" (no spaces or slashes)');

/** A hook: a TypeScript function registered on the workers by name, or an activity on another task queue. */
const hookSchema = z.union([safeName, remoteHookSchema]);

const httpUrl = z
  .string()
  .url('expected an absolute URL such as https://openeo.dataspace.copernicus.eu')
  .refine((u) => /^https?:\/\//.test(u), 'the URL must start with http:// or https://');

const secondsSchema = z.number().positive().finite();

/** A count limit: zod's own integer check reports a fraction as a missing value, so refine instead. */
const wholeLimit = z
  .number()
  .refine(Number.isInteger, 'must be a whole number, such as 2')
  .refine((n) => n >= 1, 'must be at least 1 (leave it out for no limit)');

export const backendSchema = z.strictObject({
  /** The worker looks up this backend's credentials by name. */
  name: safeName,
  /** The backend's openEO API URL, e.g. https://openeo.dataspace.copernicus.eu. */
  url: httpUrl,
  /**
   * How many of this batch's openEO jobs may be created, queued or running at once.
   * @default 2
   */
  parallelJobs: z
    .number()
    .int()
    .min(1)
    // A window has one child workflow per job in flight, and Temporal allows 2,000 pending children.
    .max(2_000, 'at most 2,000 (Temporal allows a workflow 2,000 pending child workflows, one per job in flight)')
    .default(2),
  /** At most this many of the batch's jobs wait (created or queued) in the backend's queue. */
  maxQueued: z.number().int().min(1).optional(),
  /**
   * A quota of the backend, held across every worker of the deployment (see
   * docs/quotas.md): openEO requests in flight at once. No limit when left out.
   */
  maxConcurrentRequests: wholeLimit.optional(),
  /** A quota of the backend: openEO requests per second, at least one a minute (0.0167). No limit when left out. */
  maxRequestsPerSecond: z
    .number()
    .finite()
    .min(MIN_REQUESTS_PER_SECOND, 'must be at least 0.0167, one request a minute (leave it out for no limit)')
    .optional(),
  /** A quota of the backend: job starts per minute (or per `jobStartWindowSeconds`). No limit when left out. */
  maxJobStartsPerMinute: wholeLimit.optional(),
  /**
   * The window `maxJobStartsPerMinute` counts job starts in, in seconds: 60 unless the backend's
   * start quota is per a shorter window (or a test scales time down). At most 60; it shapes
   * `maxJobStartsPerMinute` only and means nothing without it.
   */
  jobStartWindowSeconds: z
    .number()
    .finite()
    .min(1, 'must be at least 1 second')
    .max(JOB_START_WINDOW_SECONDS, `must be at most ${JOB_START_WINDOW_SECONDS} seconds (leave it out for a minute)`)
    .optional(),
});

const processSchema = z.union([
  z.strictObject({
    /** Id of a process: a predefined one, or a remote UDP when `namespace` is a URL. */
    processId: z.string().min(1),
    /** URL of a remote process definition (a UDP), or a backend namespace such as "user". */
    namespace: z.string().min(1).optional(),
  }),
  z.strictObject({
    /** A complete openEO process graph, sent as is; tile parameters fill `from_parameter` refs. */
    processGraph: z
      .record(z.string(), z.unknown())
      .refine((g) => Object.keys(g).length > 0, 'the process graph is empty'),
  }),
]);

/** Values for process parameters that are the same for every tile. */
const parameterDefaultsSchema = z.record(z.string(), z.unknown()).default({});

/**
 * Process parameter ← tile property. The special property `geometry` is the tile's EPSG:4326
 * geometry. By default `geometry` feeds the parameter `geometry`.
 */
const parameterMappingSchema = z.record(z.string(), z.string()).default({ geometry: 'geometry' });

/**
 * The part of a spec that says which process its jobs call and with what: readable on its own,
 * so a remote process is checked even when other parts of the spec are wrong.
 */
export const processCallSchema = z.object({
  process: processSchema.optional(),
  parameterDefaults: parameterDefaultsSchema,
  parameterMapping: parameterMappingSchema,
});

const aoiSchema = z.strictObject({
  /** The area's smallest x, in `crs`. */
  west: z.number().finite(),
  /** The area's smallest y, in `crs`. */
  south: z.number().finite(),
  /** The area's largest x, in `crs`. */
  east: z.number().finite(),
  /** The area's largest y, in `crs`. */
  north: z.number().finite(),
  /**
   * The CRS of the bounds and of the grid: `EPSG:<code>` or a proj4 string.
   * @default 'EPSG:4326'
   */
  crs: z.string().min(1).default('EPSG:4326'),
});

const featureCollectionSchema = z.looseObject({
  /** The GeoJSON object type. */
  type: z.literal('FeatureCollection'),
  /** The tiles, one GeoJSON Feature each (Polygon or MultiPolygon, in lon/lat). */
  features: z
    .array(
      z.looseObject({
        /** The GeoJSON object type. */
        type: z.literal('Feature'),
      }),
    )
    .min(1, 'the FeatureCollection has no features'),
});

/** Tiles in a file the workers can read, or at a URL: GeoJSON, or GeoJSON lines (one feature per line). */
const tileFileSchema = z.union([
  z.strictObject({
    /** Path of the tile file on the workers (relative to their working directory, or absolute). */
    file: z.string().min(1),
    /** `geojson` (a FeatureCollection) or `geojsonl` (one Feature per line); from the file name when left out. */
    format: z.enum(['geojson', 'geojsonl']).optional(),
  }),
  z.strictObject({
    /** URL the workers download the tiles from. */
    url: httpUrl,
    /** `geojson` (a FeatureCollection) or `geojsonl` (one Feature per line); from the URL when left out. */
    format: z.enum(['geojson', 'geojsonl']).optional(),
  }),
]);

const areaGeometrySchema = z.looseObject({
  /** The GeoJSON geometry type. */
  type: z.enum(['Polygon', 'MultiPolygon']),
  /** The geometry's coordinates, as GeoJSON has them. */
  coordinates: z.array(z.unknown()),
});

/** An area's outline: a (Multi)Polygon, a Feature of one, or a FeatureCollection of them. */
const areaSchema = z.union([
  areaGeometrySchema,
  z.looseObject({
    /** The GeoJSON object type. */
    type: z.literal('Feature'),
    /** The area's outline. */
    geometry: areaGeometrySchema,
  }),
  z.looseObject({
    /** The GeoJSON object type. */
    type: z.literal('FeatureCollection'),
    /** The area's parts: the area is their union. */
    features: z
      .array(
        z.looseObject({
          /** The GeoJSON object type. */
          type: z.literal('Feature'),
          /** This part's outline. */
          geometry: areaGeometrySchema,
        }),
      )
      .min(1),
  }),
]);

export const tilesSchema = z.union([
  z.strictObject({
    /** The area of interest: a bounding box, split into square tiles. */
    aoi: aoiSchema,
    /** Tile edge length in the units of `aoi.crs` (metres for UTM). */
    tileSize: z.number().finite().positive('the tile size must be greater than 0'),
  }),
  z.strictObject({
    /** The area's outline, in lon/lat unless its GeoJSON `crs` member names another CRS. */
    aoi: areaSchema,
    /**
     * The grid's CRS: the grid is laid over the outline's bounding box in it.
     * @default 'EPSG:4326'
     */
    crs: z.string().min(1).default('EPSG:4326'),
    /** Tile edge length in the units of `crs`. */
    tileSize: z.number().finite().positive('the tile size must be greater than 0'),
    /**
     * Tiles are cut to the area (cell ∩ area) instead of whole cells.
     * @default false
     */
    clip: z.boolean().default(false),
  }),
  featureCollectionSchema,
  tileFileSchema,
]);

const periodDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'use an ISO date such as 2024-01-01');
const periodInstant = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?$/,
    'use an ISO date (2024-01-01) or an RFC 3339 date-time (2024-01-01T00:00:00Z)',
  );

/**
 * Tiles × time ranges: every tile runs once per period (end exclusive, as openEO's
 * `temporal_extent`). Calendar steps are aligned to months, quarters or years and clipped to
 * start and end; listed ranges get the ids `p1`, `p2`, … unless they name their own.
 */
export const periodsSchema = z.union([
  z.strictObject({
    /** The calendar step: one period per month, quarter or year. */
    every: z.enum(['month', 'quarter', 'year']),
    /** The first day, an ISO date; the first period is clipped to start here. */
    start: periodDate,
    /** The day after the last, an ISO date (exclusive); the last period is clipped to end here. */
    end: periodDate,
  }),
  z.strictObject({
    /** The time ranges, each `[start, end]` or `{ id?, start, end }`: ISO dates or RFC 3339 date-times. */
    ranges: z
      .array(
        z.union([
          z.tuple([periodInstant, periodInstant]),
          z.strictObject({
            /** The period's id in tile ids: `p1`, `p2`, … by position when left out. */
            id: z
              .string()
              .regex(/^[A-Za-z0-9][A-Za-z0-9.-]*$/, "use letters, digits, '-' or '.' (no '_')")
              .max(40)
              .optional(),
            /** The range's start: an ISO date or an RFC 3339 date-time. */
            start: periodInstant,
            /** The range's end (exclusive), in the same forms as `start`. */
            end: periodInstant,
          }),
        ]),
      )
      .min(1, 'give at least one range, such as ["2024-01-01", "2024-04-01"]'),
  }),
]);

/** Limits per job phase; a job past one is cancelled on the backend, then retried or failed. */
const timeoutsSchema = z.strictObject({
  /** Longest a job may wait (created or queued) before it runs. */
  maxQueuedSeconds: secondsSchema.optional(),
  /** Longest a job may run. */
  cancelRunningJobAfterSeconds: secondsSchema.optional(),
  /**
   * A waiting or downloading activity that stops heartbeating this long is retried elsewhere:
   * how soon a crashed worker's work moves on.
   * @default 60
   */
  heartbeatSeconds: secondsSchema.default(TIMEOUT_DEFAULTS.heartbeatSeconds),
  /**
   * The same for a job's wait (queued, running): how soon a crashed worker's waits move on. A
   * wait heartbeats 2.5 minutes before this runs out, and each heartbeat is a billed Temporal
   * Cloud Action. Its default, 15 times `heartbeatSeconds`, is the workflow's, not filled in
   * here, so specs without it read as before.
   * @default 900
   */
  waitHeartbeatSeconds: secondsSchema.optional(),
  /**
   * Longest a single openEO call activity (create, start, cancel, logs) may take before it is retried.
   * @default 120
   */
  activitySeconds: secondsSchema.default(TIMEOUT_DEFAULTS.activitySeconds),
  /**
   * Retries of a failing call wait longer each time (from 2 s, doubling), up to this.
   * @default 120
   */
  retryMaxIntervalSeconds: secondsSchema.default(TIMEOUT_DEFAULTS.retryMaxIntervalSeconds),
  /**
   * A spec naming a hook on another task queue: how long the batch waits, before any job, for a
   * worker of that queue to say which hooks it has. No answer refuses the batch. Its default
   * (60) is the workflow's, not filled in here, so specs without it read as before.
   * @default 60
   */
  hookWorkerSeconds: secondsSchema.optional(),
});

/** How the batch keeps every workflow run small; the defaults suit batches of any size. */
const schedulingSchema = z.strictObject({
  /**
   * A window continues as new after this many history events, or earlier when the server
   * suggests it (a default server does at 4,096 events; it warns at 10,240).
   * @default 4000
   */
  maxEventsPerRun: z.number().int().min(100).max(40_000).default(4_000),
  /**
   * Batches with more tiles than this run as a sequence of partition workflows.
   * @default 20000
   */
  partitionAboveTiles: z.number().int().min(1).default(20_000),
  /**
   * Tiles per partition.
   * @default 5000
   */
  tilesPerPartition: z.number().int().min(1).default(5_000),
  /**
   * A backend on which this many tiles fail in a row is paused for the batch.
   * @default 10
   */
  pauseBackendAfterErrors: z.number().int().min(1).default(10),
  /**
   * While all of a backend's `parallelJobs` are taken, line one tile up behind each: its job is
   * created ahead and started the moment the job ahead finishes, so no slot sits idle. A slot
   * that frees with no other tile to take it goes to a lined-up tile, so none waits behind a long
   * job meanwhile. `false`: a job is created only when its slot is free.
   * @default true
   */
  lineUpJobs: z.boolean().default(true),
  /**
   * While tiles end, the batch saves its records beside its results (`<outputDir>/<batchId>/
   * job-database.json.gz` and `.parquet`) at most this often, and once more when it ends, so they
   * outlive the namespace's retention. Keep it well below the retention. Its default (60) is the
   * workflow's, not filled in here, so specs without it read as before.
   * @default 60
   */
  saveRecordsEveryMinutes: z.number().min(0.05).max(1440).optional(),
});

const pollingSchema = z.strictObject({
  /**
   * Shortest wait between two status checks of a job with nothing better to go on: the first
   * check after it starts or changes status. Later waits grow with the job's age (half of it) and
   * its progress towards the maximum. 5 before 0.12.0, which saw a 5 s job's end 5 s late.
   * @default 1
   */
  initialIntervalSeconds: secondsSchema.default(1),
  /**
   * Longest wait between two status checks while the job's end is not known; once its progress
   * has proven an end (two estimates that agree, or one that agrees with how long the backend's
   * other jobs ran), the one check aimed just after that end may come later.
   * @default 60
   */
  maxIntervalSeconds: secondsSchema.default(60),
});

/** Credits: a budget of zero or less could never start a job, so it is refused. */
const creditsSchema = z.number().finite().positive('must be more than 0 credits (leave it out for no limit)');

/**
 * What the batch may spend, in the backends' credits: no new job starts once the credits
 * reported so far plus what the jobs in flight are expected to cost would pass it (see
 * `workflows/budget.ts`). `credits` holds for the whole batch, `backends` for each named one.
 */
export const budgetSchema = z
  .strictObject({
    /** Credits the whole batch may spend. No limit when left out. */
    credits: creditsSchema.optional(),
    /** Credits each named backend may spend. No limit for a backend left out. */
    backends: z.record(z.string(), creditsSchema).optional(),
  })
  .refine((b) => b.credits !== undefined || Object.keys(b.backends ?? {}).length > 0, {
    message: 'sets no limit',
    params: {
      fix: 'give "credits" for the whole batch ({"credits": 100}), a limit per backend ({"backends": {"<name>": 40}}), or leave budget out',
    },
  });

export const batchSpecSchema = z
  .strictObject({
    /** Names the batch: the workflow id, the output folder and the children's id prefix. */
    batchId: safeName.optional(),
    /** A title for people: the batch's summary in the Temporal UI shows it. */
    title: z.string().max(200).optional(),
    /** The openEO backends the batch's jobs run on, at least one. */
    backends: z.array(backendSchema).min(1, 'name at least one openEO backend'),
    /** What every tile's job runs; optional when `jobFactory` builds each tile's job. */
    process: processSchema.optional(),
    /**
     * Values for process parameters that are the same for every tile.
     * @default {}
     */
    parameterDefaults: parameterDefaultsSchema,
    /**
     * Process parameter ← tile property: which tile property fills which parameter. The special
     * property `geometry` is the tile's EPSG:4326 geometry.
     * @default { geometry: 'geometry' }
     */
    parameterMapping: parameterMappingSchema,
    /** Extra openEO job options (e.g. executor memory), sent with every job. */
    jobOptions: z.record(z.string(), z.unknown()).optional(),
    /**
     * A create-job hook that builds each tile's job (or skips the tile) instead of `process`
     * alone: the name of a TypeScript hook registered on the workers (`createOpenEOPlugin({
     * jobFactories })`), or `{ activity, taskQueue }`, an activity of a worker in any language
     * on its own task queue (docs/hooks.md).
     */
    jobFactory: hookSchema.optional(),
    /**
     * A post-processing hook run after each tile's download: a TypeScript hook's name
     * (`createOpenEOPlugin({ postprocessors })`), or `{ activity, taskQueue }` on another task queue.
     */
    postprocess: hookSchema.optional(),
    /** A tile property holding an object of job options for that tile, merged over `jobOptions` (the tile's win). */
    jobOptionsProperty: z.string().min(1).optional(),
    /**
     * The tiles, one openEO job each: an area split into a grid (by bounds or by outline), a GeoJSON
     * FeatureCollection, or a GeoJSON (lines) file or URL.
     */
    tiles: tilesSchema,
    /** Time ranges: every tile runs once per period, as `<tileId>_<periodId>`. */
    periods: periodsSchema.optional(),
    /**
     * Tiles the batch may have. A larger batch is refused before it starts until the user
     * confirms it (`start --yes`) or raises this, so a slip in the tiling never starts a
     * million jobs.
     * @default 10000
     */
    maxTiles: z
      .number()
      .int('must be a whole number of tiles')
      .min(1)
      .max(
        MAX_TILES,
        `at most ${MAX_TILES.toLocaleString('en-US')}, the hard limit of one batch (split larger areas over several batches)`,
      )
      .default(DEFAULT_MAX_TILES),
    /**
     * Where results land: a folder on the worker's file system, or `s3://bucket/prefix` (object
     * storage shared by every worker; credentials from the worker's AWS variables).
     * @default './output'
     */
    outputDir: outputDirSchema.default('./output'),
    /**
     * Where a tile's files go under `outputDir`: placeholders, see `output-path.ts`.
     * @default '{batchId}/{tileId}/{asset}'
     */
    outputPath: z.string().min(1).default(DEFAULT_OUTPUT_PATH),
    /** The STAC Collection of the results (written for every batch) and the STAC API it is pushed to. */
    stac: stacSchema.optional(),
    /** How often a job's status is checked while it waits or runs. */
    polling: pollingSchema.default({ initialIntervalSeconds: 1, maxIntervalSeconds: 60 }),
    /**
     * openEO jobs per tile at most: a job that ends in error (or times out) is resubmitted.
     * @default 2
     */
    maxAttempts: z.number().int().min(1).max(10).default(2),
    /**
     * Resubmit a failed job on another backend the tile may use, when there is one.
     * @default false
     */
    retryOnOtherBackend: z.boolean().default(false),
    /** Limits per job phase and per activity; a job past one is cancelled on the backend, then retried or failed. */
    timeouts: timeoutsSchema.default({
      heartbeatSeconds: TIMEOUT_DEFAULTS.heartbeatSeconds,
      activitySeconds: TIMEOUT_DEFAULTS.activitySeconds,
      retryMaxIntervalSeconds: TIMEOUT_DEFAULTS.retryMaxIntervalSeconds,
    }),
    /**
     * Set by `retry-failed`: this run re-runs tiles that failed in an earlier run of the batch.
     * Their tile workflows may run again under the same ids; job attempts continue the count.
     */
    rerun: z
      .strictObject({
        /** Jobs each re-run tile had before, by tile id: its attempts continue from there. */
        previousAttempts: z.record(z.string(), z.number().int().min(0)),
        /** Tiles whose job finished but whose download failed: their results are fetched again, no new job. */
        finishedJobs: z.record(z.string(), z.string()).optional(),
        /**
         * Set by `postprocess`: tiles whose results are on disk, by tile id, with their record;
         * only their post-processing runs again (no job, no download).
         */
        postprocessOnly: z
          .record(
            z.string(),
            z.looseObject({
              /** The tile's id. */
              tileId: z.string(),
              /** The tile's folder, where its results are. */
              outputDir: z.string(),
              /** Its files, relative to `outputDir`. */
              files: z.array(z.string()),
            }),
          )
          .optional(),
      })
      .optional(),
    /** Credits the batch may spend, in all and per backend. */
    budget: budgetSchema.optional(),
    /** How the batch keeps every workflow run small; the defaults suit batches of any size. */
    scheduling: schedulingSchema.default({
      maxEventsPerRun: 4_000,
      partitionAboveTiles: 20_000,
      tilesPerPartition: 5_000,
      pauseBackendAfterErrors: 10,
      lineUpJobs: true,
    }),
  })
  .superRefine((spec, ctx) => {
    const seen = new Set<string>();
    spec.backends.forEach((b, i) => {
      if (seen.has(b.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['backends', i, 'name'],
          message: `backend name "${b.name}" is used twice; give each backend its own name`,
        });
      }
      seen.add(b.name);
      if (b.jobStartWindowSeconds !== undefined && b.maxJobStartsPerMinute === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['backends', i, 'jobStartWindowSeconds'],
          message: 'is the window of maxJobStartsPerMinute, which this backend does not set',
        });
      }
    });
    if (spec.process === undefined && spec.jobFactory === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['process'],
        message: 'is missing, and no jobFactory builds the jobs instead',
        params: {
          fix: 'give the process every tile runs ({"processId": "...", "namespace": "<UDP URL>"} or {"processGraph": {...}}), or a "jobFactory" registered on the workers',
        },
      });
    }
    checkOutputPath(spec, ctx);
    for (const name of Object.keys(spec.budget?.backends ?? {})) {
      if (seen.has(name)) continue;
      ctx.addIssue({
        code: 'custom',
        path: ['budget', 'backends', name],
        message: `names backend "${name}", which is not one of the batch's backends`,
        params: { fix: `use one of ${[...seen].map((n) => `"${n}"`).join(', ')}` },
      });
    }
    if (spec.polling.initialIntervalSeconds > spec.polling.maxIntervalSeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['polling', 'initialIntervalSeconds'],
        message: 'must not be larger than polling.maxIntervalSeconds',
      });
    }
  });

/**
 * A batch spec as users write it (defaults may be missing).
 *
 * @useDeclaredType
 */
export type BatchSpecInput = z.input<typeof batchSpecSchema>;
/**
 * A batch spec after validation, every default filled in.
 *
 * @useDeclaredType
 */
export type BatchSpec = z.output<typeof batchSpecSchema>;
/**
 * One of a spec's `backends`, after validation: where its jobs run, and its limits.
 *
 * @useDeclaredType
 */
export type BackendSpec = z.output<typeof backendSchema>;
/** The process a spec names; a spec may leave it out when a job factory builds every job. */
export type ProcessSpec = NonNullable<BatchSpec['process']>;
export type TilesSpec = BatchSpec['tiles'];
export type PollingSpec = BatchSpec['polling'];
export type SchedulingSpec = BatchSpec['scheduling'];
export type BudgetSpec = NonNullable<BatchSpec['budget']>;
export type TimeoutsSpec = BatchSpec['timeouts'];
export type TileFileSpec = z.output<typeof tileFileSchema>;
export type PeriodsSpecInput = z.output<typeof periodsSchema>;

/**
 * The contract of hooks on another task queue, as zod types: what the workflow sends a job
 * factory or post-processor activity written in any language, and what it accepts back. The
 * same types give `schema/hooks.schema.json` (and the Python package's copy), so both sides
 * check against one definition; docs/hooks.md describes it for people.
 *
 * The workflow checks answers with pure code (`normalizeJobPlan`, `checkPostprocessAnswer`:
 * workflow code carries no zod); `test/unit/hook-contract.test.ts` holds both to these types.
 */
import { z } from 'zod';
import { MAX_POSTPROCESS_RESULT_BYTES } from './postprocess';
import { HOOK_CONTRACT_VERSION } from './remote';

/** A spec's hook on another task queue. */
export const remoteHookSchema = z.strictObject({
  /** The activity's name, as the hook worker registers it (e.g. the Python function's name). */
  activity: z.string().min(1).max(200).regex(/^\S+$/, 'an activity name has no spaces'),
  /** The task queue the hook worker polls, e.g. `openeo-python`. */
  taskQueue: z.string().min(1).max(200).regex(/^\S+$/, 'a task queue name has no spaces'),
});

const contractVersion = z.literal(HOOK_CONTRACT_VERSION).describe('The contract version the request follows.');
const jsonObject = z.record(z.string(), z.unknown());

const tileSchema = z
  .looseObject({
    id: z.string().describe('The tile id, unique in its batch (with periods: `<placeId>_<periodId>`).'),
    geometry: jsonObject.describe('The tile as a GeoJSON geometry in EPSG:4326.'),
    properties: jsonObject.describe(
      'The tile properties; with periods, `period` is `{ id, start, end }` (ISO dates, end exclusive).',
    ),
  })
  .describe('One tile of the batch.');

const processGraphSchema = z
  .record(z.string(), z.looseObject({ process_id: z.string(), arguments: jsonObject }))
  .describe('An openEO process graph: nodes by id, one of them with `result: true`.');

const planExtras = {
  title: z.string().optional().describe('The job title; the tile key is appended.'),
  description: z.string().optional().describe('The job description.'),
  jobOptions: jsonObject.optional().describe('openEO job options, merged over the spec `jobOptions` key by key.'),
};

/** What a job factory activity is called with. */
export const jobFactoryRequestSchema = z
  .looseObject({
    contractVersion,
    batchId: z.string(),
    tile: tileSchema,
    backend: z.looseObject({ name: z.string(), url: z.string() }).describe('The backend the job goes to.'),
    attempt: z.number().int().min(1).describe('The job number for this tile; each resubmitted job asks again.'),
    parameterDefaults: jsonObject.describe('The spec `parameterDefaults`.'),
    specProcessGraph: processGraphSchema
      .optional()
      .describe('The graph the spec `process` gives this tile; absent when the spec has no `process`.'),
  })
  .describe('The one argument of a job factory activity.');

/** What a job factory activity answers: a graph, a process with arguments, or a skip. */
export const jobFactoryAnswerSchema = z
  .union([
    z.looseObject({ processGraph: processGraphSchema, ...planExtras }),
    z.looseObject({
      process: z.looseObject({ processId: z.string().min(1), namespace: z.string().optional() }),
      arguments: jsonObject.optional(),
      ...planExtras,
    }),
    z.looseObject({ skip: z.string().regex(/\S/).describe('Why the tile needs no job: its `skipReason`.') }),
  ])
  .describe('The answer of a job factory activity.');

const tileFileSchema = z.looseObject({
  name: z.string().describe('The file name in the tile folder.'),
  location: z.string().describe('A path on the worker file system, or `s3://bucket/key`.'),
});

/** What a post-processor activity is called with. */
export const postprocessRequestSchema = z
  .looseObject({
    contractVersion,
    batchId: z.string(),
    tile: tileSchema,
    record: jsonObject.describe('The tile record after its download (status `finished`).'),
    tileDir: z.string().describe('The tile folder: a path, or `s3://bucket/prefix`; write new files here.'),
    files: z.array(tileFileSchema).describe('The tile files: result assets, `job.json`, quicklooks.'),
  })
  .describe('The one argument of a post-processor activity.');

/** What a post-processor activity answers. */
export const postprocessAnswerSchema = z
  .looseObject({
    written: z
      .array(z.string().regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/))
      .describe('Plain names of the files the hook wrote into `tileDir`; they join the record and the STAC item.'),
    result: z
      .unknown()
      .optional()
      .describe(`Kept as the record's \`postprocessResult\`: JSON, at most ${MAX_POSTPROCESS_RESULT_BYTES} bytes.`),
  })
  .describe('The answer of a post-processor activity.');

/** What the probe activity every hook worker registers answers. */
export const describeHooksAnswerSchema = z
  .looseObject({
    contractVersion: z.number().int(),
    jobFactories: z.array(z.string()),
    postprocessors: z.array(z.string()),
    worker: z.string().optional(),
  })
  .describe('The answer of `openeo_temporal.describe_hooks`: the hooks a worker of the queue registered.');

/** Where the generated schema is kept in the repository, and its copy in the Python package. */
export const HOOK_SCHEMA_FILES = ['schema/hooks.schema.json', 'python/src/openeo_temporal/contract.schema.json'];

/** The contract as one JSON Schema document (draft 2020-12), its types under `$defs`. */
export function hookContractJsonSchema(): Record<string, unknown> {
  const defs = {
    RemoteHook: remoteHookSchema,
    JobFactoryRequest: jobFactoryRequestSchema,
    JobFactoryAnswer: jobFactoryAnswerSchema,
    PostprocessRequest: postprocessRequestSchema,
    PostprocessAnswer: postprocessAnswerSchema,
    DescribeHooksAnswer: describeHooksAnswerSchema,
  };
  const $defs = Object.fromEntries(
    Object.entries(defs).map(([name, schema]) => {
      const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' });
      return [name, rest];
    }),
  );
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'openeo-temporal hook contract',
    description:
      'Job factories and post-processors as activities on another task queue: the one argument each is called with, ' +
      `and its answer (contract version ${HOOK_CONTRACT_VERSION}). See docs/hooks.md.`,
    $defs,
  };
}

/** The schema file's exact text. */
export function hookContractJsonSchemaText(): string {
  return `${JSON.stringify(hookContractJsonSchema(), null, 2)}\n`;
}

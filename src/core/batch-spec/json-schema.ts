/**
 * The batch spec as a JSON Schema (draft 2020-12), generated from the zod schema that validates
 * it, so other languages (a Python notebook, a service) can check and complete a spec before
 * they start a batch. `npm run schema` writes it to `schema/batch-spec.schema.json`; a test
 * fails when that file is stale.
 *
 * JSON Schema cannot say everything zod checks (that backend names are unique, that the first
 * polling interval is not longer than the last, that a CRS is known): the worker checks those
 * and refuses the batch with the field named. One such rule is said here by hand: a spec names
 * a `process`, or a `jobFactory` that builds its jobs.
 */
import { z } from 'zod';
import { batchSpecSchema } from './schema';

/** Where the generated schema is kept in the repository and the npm package. */
export const BATCH_SPEC_SCHEMA_FILE = 'schema/batch-spec.schema.json';

/** The schema of a spec as users write it: fields with defaults may be left out. */
export function batchSpecJsonSchema(): Record<string, unknown> {
  const { $schema, ...rest } = z.toJSONSchema(batchSpecSchema, { io: 'input', target: 'draft-2020-12' });
  return {
    $schema,
    title: 'openeo-temporal batch spec',
    description:
      'The input of the batchWorkflow workflow: backends, the openEO process, its parameters and the tiles to run it on. ' +
      'It never holds a secret: credentials live on the worker.',
    ...rest,
    // Each branch names its property too, as strict validators (Ajv's strictRequired) ask.
    anyOf: ['process', 'jobFactory'].map((field) => ({ properties: { [field]: true }, required: [field] })),
  };
}

/** The schema file's exact text. */
export function batchSpecJsonSchemaText(): string {
  return `${JSON.stringify(batchSpecJsonSchema(), null, 2)}\n`;
}

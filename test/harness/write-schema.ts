/**
 * Writes the batch spec's JSON Schema (`npm run schema`), generated from the zod schema. Run it
 * after changing `src/core/batch-spec/schema.ts` and commit the file; `test/unit/json-schema.test.ts` fails
 * while it is stale.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BATCH_SPEC_SCHEMA_FILE, batchSpecJsonSchemaText } from '../../src/core/batch-spec/json-schema';

const ROOT = join(__dirname, '..', '..', '..');

async function main(): Promise<void> {
  const file = join(ROOT, BATCH_SPEC_SCHEMA_FILE);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, batchSpecJsonSchemaText());
  console.log(`wrote ${BATCH_SPEC_SCHEMA_FILE}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

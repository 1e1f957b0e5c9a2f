/**
 * Writes the JSON Schemas (`npm run schema`) generated from the zod types: the batch spec's, and
 * the hook contract's (with its copy in the Python package). Run it after changing
 * `src/core/batch-spec/schema.ts` or `src/core/hooks/contract.ts` and commit the files;
 * `test/unit/json-schema.test.ts` and `test/unit/hook-contract.test.ts` fail while they are stale.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BATCH_SPEC_SCHEMA_FILE, batchSpecJsonSchemaText } from '../../src/core/batch-spec/json-schema';
import { HOOK_SCHEMA_FILES, hookContractJsonSchemaText } from '../../src/core/hooks/contract';

const ROOT = join(__dirname, '..', '..', '..');

async function write(path: string, text: string): Promise<void> {
  const file = join(ROOT, path);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, text);
  console.log(`wrote ${path}`);
}

async function main(): Promise<void> {
  await write(BATCH_SPEC_SCHEMA_FILE, batchSpecJsonSchemaText());
  for (const path of HOOK_SCHEMA_FILES) await write(path, hookContractJsonSchemaText());
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

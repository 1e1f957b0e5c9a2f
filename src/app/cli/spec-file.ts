/** Reading a batch spec file for `start` and `plan`, with the file named when it cannot be read. */
import { readFile } from 'node:fs/promises';
import type { BatchSpecInput } from '../../core/batch-spec/schema';

export async function readSpecFile(path: string): Promise<BatchSpecInput> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as BatchSpecInput;
  } catch (err) {
    throw new Error(`cannot read the batch spec ${path}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
}

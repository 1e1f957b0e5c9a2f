/**
 * STAC documents validated offline by the tests, through `test/harness/stac_validate.py` in the STAC
 * venv (see `stac-python.ts`): the core by pystac's validator and its bundled schemas, the
 * listed extensions by the same validator with the schemas in `test/harness/stac-schemas/`, and the
 * asset fields read back through pystac's extension classes. That file says which does what.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const SCRIPT = join(__dirname, '..', '..', '..', 'test', 'harness', 'stac_validate.py');

export interface StacValidation {
  id: string | null;
  type: string | null;
  /** Empty when the document is valid. */
  errors: string[];
  /** Schema URIs the document was validated against (core and extensions). */
  extensions: string[];
}

/** Validates every document; one result per document, in order. */
export async function validateStac(python: string, docs: readonly unknown[]): Promise<StacValidation[]> {
  const child = spawn(python, [SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  child.stdin.end(JSON.stringify(docs));
  const code = await exited;
  if (code !== 0) throw new Error(`stac_validate.py exited with ${code}: ${Buffer.concat(err).toString()}`);
  return JSON.parse(Buffer.concat(out).toString()) as StacValidation[];
}

/**
 * The Python side of the STAC tests: a venv with `test/harness/stac-requirements.txt` (the STAC API
 * server stac-fastapi-pgstac, pypgstac for its database schema, and the validators pystac and
 * stac-validator) installed from PyPI, kept in the cache folder next to the Temporal CLI and
 * reused while the requirements and Python stay the same. `.ci/run` installs it ahead of the
 * tests (`node dist/test/harness/stac-python.js`).
 */
import { join } from 'node:path';
import { installedVenvPython, venvPython, type VenvSpec } from './python-venv';

const ROOT = join(__dirname, '..', '..', '..');
export const STAC_REQUIREMENTS = join(ROOT, 'test', 'harness', 'stac-requirements.txt');
const STAC_VENV: VenvSpec = { name: 'stac', requirementsFile: STAC_REQUIREMENTS };

/** The venv's Python when it is installed, else undefined (nothing is installed). */
export function installedStacPython(): Promise<string | undefined> {
  return installedVenvPython(STAC_VENV);
}

/** The venv's Python, creating it the first time. */
export function stacPython(log?: (line: string) => void): Promise<string> {
  return venvPython(STAC_VENV, log);
}

if (require.main === module) {
  stacPython((line) => console.log(line)).then(
    (python) => console.log(`STAC Python ready: ${python}`),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}

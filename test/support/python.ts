/**
 * A Python environment for tests that run the Python example: a venv with
 * `examples/python/requirements.txt` installed from PyPI, kept in the cache folder outside the
 * repository (next to the Temporal CLI) and reused while the requirements and Python stay the same.
 */
import { join } from 'node:path';
import { venvPython } from '../harness/python-venv';

const ROOT = join(__dirname, '..', '..', '..');
export const PYTHON_EXAMPLE = join(ROOT, 'examples', 'python', 'batch.py');
const REQUIREMENTS = join(ROOT, 'examples', 'python', 'requirements.txt');

/** The venv's Python with the example's requirements, created the first time (about half a minute with a network). */
export function examplePython(log?: (line: string) => void): Promise<string> {
  return venvPython({ name: 'example', requirementsFile: REQUIREMENTS }, log);
}

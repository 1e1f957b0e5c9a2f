/**
 * The Python package (`python/`) for tests: a venv with `python/requirements-test.txt` installed
 * from PyPI (one venv for every Python test and notebook), kept in the cache folder outside the
 * repository (next to the Temporal CLI) and reused while the requirements and Python stay the same.
 * The package itself is not installed: tests run it from its sources with {@link packageEnv}.
 */
import { join } from 'node:path';
import { venvPython } from '../harness/python-venv';

const ROOT = join(__dirname, '..', '..', '..');
/** The package's folder: `pyproject.toml`, `src/openeo_temporal`, `tests`. */
export const PYTHON_PACKAGE = join(ROOT, 'python');
export const PYTHON_REQUIREMENTS = join(PYTHON_PACKAGE, 'requirements-test.txt');

/** The venv's Python with the test requirements, created the first time (minutes with a network). */
export function packagePython(log?: (line: string) => void): Promise<string> {
  return venvPython({ name: 'python', requirementsFile: PYTHON_REQUIREMENTS }, log);
}

/**
 * An environment in which `python -m openeo_temporal` runs the package from `pythonPath` (its
 * sources by default), writing no bytecode into the repository.
 */
export function packageEnv(
  extra: NodeJS.ProcessEnv = {},
  pythonPath: string = join(PYTHON_PACKAGE, 'src'),
): NodeJS.ProcessEnv {
  return { ...process.env, PYTHONPATH: pythonPath, PYTHONDONTWRITEBYTECODE: '1', ...extra };
}

/**
 * A Python environment for tests that run the Python example: a venv with
 * `examples/python/requirements.txt` installed from PyPI, kept in the cache folder outside the
 * repository (next to the Temporal CLI) and reused while the requirements and Python stay the same.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { temporalCacheDir } from '../../tools/devserver';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..', '..');
export const PYTHON_EXAMPLE = join(ROOT, 'examples', 'python', 'batch.py');
const REQUIREMENTS = join(ROOT, 'examples', 'python', 'requirements.txt');
/** The example's pinned packages (pandas 3, geopandas 1.2) need Python 3.11 or later. */
const MIN_VERSION = [3, 11];

/** The first Python 3.11+ found: $OPENEO_TEMPORAL_PYTHON, else python3 and friends on PATH. */
async function findPython(): Promise<{ path: string; version: string }> {
  const candidates = process.env.OPENEO_TEMPORAL_PYTHON ? [process.env.OPENEO_TEMPORAL_PYTHON] : ['python3', 'python3.13', 'python3.12', 'python3.11', 'python'];
  for (const path of candidates) {
    try {
      const { stdout } = await run(path, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])']);
      const version = stdout.trim();
      const [major, minor] = version.split('.').map(Number);
      if (major > MIN_VERSION[0] || (major === MIN_VERSION[0] && minor >= MIN_VERSION[1])) return { path, version };
    } catch {
      // Not there: try the next one.
    }
  }
  throw new Error(`the Python example needs Python ${MIN_VERSION.join('.')} or later: put python3 on PATH or set OPENEO_TEMPORAL_PYTHON`);
}

/**
 * The venv's Python, creating the venv and installing the requirements the first time (about
 * half a minute with a network). A marker written after a complete install says it is usable.
 */
export async function examplePython(log: (line: string) => void = () => undefined): Promise<string> {
  const python = await findPython();
  const requirements = await readFile(REQUIREMENTS, 'utf8');
  const key = createHash('sha256').update(`${python.version}\n${requirements}`).digest('hex').slice(0, 12);
  const dir = join(temporalCacheDir(), 'python', `py${python.version}-${key}`);
  const venvPython = join(dir, 'bin', 'python');
  const marker = join(dir, '.installed');
  if (await access(marker).then(() => true, () => false)) return venvPython;
  log(`creating a Python ${python.version} venv for the example in ${dir}`);
  await rm(dir, { recursive: true, force: true });
  await run(python.path, ['-m', 'venv', dir]);
  await run(venvPython, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--quiet', '-r', REQUIREMENTS], { maxBuffer: 16 * 1024 * 1024 });
  await writeFile(marker, requirements);
  return venvPython;
}

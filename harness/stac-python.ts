/**
 * The Python side of the STAC tests: a venv with `harness/stac-requirements.txt` (the STAC API
 * server stac-fastapi-pgstac, pypgstac for its database schema, and the validators pystac and
 * stac-validator) installed from PyPI, kept in the cache folder next to the Temporal CLI and
 * reused while the requirements and Python stay the same. `.ci/run` installs it ahead of the
 * tests (`node dist/harness/stac-python.js`).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { temporalCacheDir } from '../tools/devserver';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
export const STAC_REQUIREMENTS = join(ROOT, 'harness', 'stac-requirements.txt');
/** stac-fastapi-pgstac and pypgstac need Python 3.11 or later. */
const MIN_VERSION = [3, 11];

async function findPython(): Promise<{ path: string; version: string }> {
  const candidates = process.env.OPENEO_TEMPORAL_PYTHON ? [process.env.OPENEO_TEMPORAL_PYTHON] : ['python3', 'python3.13', 'python3.12', 'python3.11'];
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
  throw new Error(`the STAC tests need Python ${MIN_VERSION.join('.')} or later: put python3 on PATH or set OPENEO_TEMPORAL_PYTHON`);
}

/** The venv folder for the current Python and requirements (whether or not it exists yet). */
async function venvDir(): Promise<{ dir: string; python: { path: string; version: string }; requirements: string }> {
  const python = await findPython();
  const requirements = await readFile(STAC_REQUIREMENTS, 'utf8');
  const key = createHash('sha256').update(`${python.version}\n${requirements}`).digest('hex').slice(0, 12);
  return { dir: join(temporalCacheDir(), 'python', `stac-py${python.version}-${key}`), python, requirements };
}

/** The venv's Python when it is installed, else undefined (nothing is installed). */
export async function installedStacPython(): Promise<string | undefined> {
  const { dir } = await venvDir();
  const ready = await access(join(dir, '.installed')).then(() => true, () => false);
  return ready ? join(dir, 'bin', 'python') : undefined;
}

/**
 * The venv's Python, creating the venv and installing the requirements the first time (a few
 * minutes on a busy machine). A marker written after a complete install says it is usable.
 */
export async function stacPython(log: (line: string) => void = () => undefined): Promise<string> {
  const installed = await installedStacPython();
  if (installed) return installed;
  const { dir, python, requirements } = await venvDir();
  log(`creating a Python ${python.version} venv for the STAC tests in ${dir}`);
  await rm(dir, { recursive: true, force: true });
  await run(python.path, ['-m', 'venv', dir]);
  const venvPython = join(dir, 'bin', 'python');
  await run(venvPython, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--quiet', '-r', STAC_REQUIREMENTS], { maxBuffer: 16 * 1024 * 1024 });
  await writeFile(join(dir, '.installed'), requirements);
  return venvPython;
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

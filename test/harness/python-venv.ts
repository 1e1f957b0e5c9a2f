/**
 * Python venvs for the tests that need Python (the Python package, the STAC API server and
 * validator): one per requirements file, kept in the cache folder next to the Temporal CLI and
 * reused while the requirements and the Python version stay the same.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { temporalCacheDir } from '../../src/tools/devserver';
import { withFileLock } from '../../src/tools/devserver/file-lock';

const run = promisify(execFile);
/** Every venv's packages (the Python package, stac-fastapi-pgstac) need Python 3.11 or later. */
const MIN_VERSION = [3, 11];

export interface VenvSpec {
  /** Names the venv's folder and the error messages: `stac`, `python`. */
  name: string;
  requirementsFile: string;
}

/** The first Python 3.11+ found: $OPENEO_TEMPORAL_PYTHON, else python3 and friends on PATH. */
async function findPython(spec: VenvSpec): Promise<{ path: string; version: string }> {
  const candidates = process.env.OPENEO_TEMPORAL_PYTHON
    ? [process.env.OPENEO_TEMPORAL_PYTHON]
    : ['python3', 'python3.13', 'python3.12', 'python3.11', 'python'];
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
  throw new Error(
    `the ${spec.name} venv needs Python ${MIN_VERSION.join('.')} or later: put python3 on PATH or set OPENEO_TEMPORAL_PYTHON`,
  );
}

/** The venv folder for the current Python and requirements (whether or not it exists yet). */
async function venvDir(spec: VenvSpec) {
  const python = await findPython(spec);
  const requirements = await readFile(spec.requirementsFile, 'utf8');
  const key = createHash('sha256').update(`${python.version}\n${requirements}`).digest('hex').slice(0, 12);
  return { dir: join(temporalCacheDir(), 'python', `${spec.name}-py${python.version}-${key}`), python, requirements };
}

/** The venv's Python when it is completely installed, else undefined (nothing is installed). */
export async function installedVenvPython(spec: VenvSpec): Promise<string | undefined> {
  const { dir } = await venvDir(spec);
  const ready = await access(join(dir, '.installed')).then(
    () => true,
    () => false,
  );
  return ready ? join(dir, 'bin', 'python') : undefined;
}

/**
 * The venv's Python, creating the venv and installing the requirements the first time (minutes
 * on a busy machine). A marker written after a complete install says it is usable.
 */
export async function venvPython(spec: VenvSpec, log: (line: string) => void = () => undefined): Promise<string> {
  const installed = await installedVenvPython(spec);
  if (installed) return installed;
  const { dir } = await venvDir(spec);
  // Test files run two at a time: one installs, another that wants the same venv waits for it.
  await mkdir(join(dir, '..'), { recursive: true });
  return withFileLock(`${dir}.lock`, async () => (await installedVenvPython(spec)) ?? createVenv(spec, log), {
    onWait: () => log(`waiting for another process to finish installing the ${spec.name} venv`),
  });
}

async function createVenv(spec: VenvSpec, log: (line: string) => void): Promise<string> {
  const { dir, python, requirements } = await venvDir(spec);
  log(`creating a Python ${python.version} venv (${spec.name}) in ${dir}`);
  await rm(dir, { recursive: true, force: true });
  await run(python.path, ['-m', 'venv', dir]);
  const executable = join(dir, 'bin', 'python');
  await run(
    executable,
    ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--quiet', '-r', spec.requirementsFile],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  await writeFile(join(dir, '.installed'), requirements);
  return executable;
}

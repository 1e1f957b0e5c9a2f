/**
 * The example notebooks (`examples/notebooks/*.ipynb`) run as a user's "Run all" would: nbclient
 * (test/harness/run_notebook.py) executes them in a kernel of the Python package's test venv
 * (`python/requirements-test.txt`, made by test/harness/python-venv.ts), with the package's
 * sources on PYTHONPATH and the notebook's settings in the environment.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { venvPython } from '../harness/python-venv';

const ROOT = join(__dirname, '..', '..', '..');
export const NOTEBOOKS_DIR = join(ROOT, 'examples', 'notebooks');
const RUNNER = join(ROOT, 'test', 'harness', 'run_notebook.py');
const REQUIREMENTS = join(ROOT, 'python', 'requirements-test.txt');
const PACKAGE_SOURCES = join(ROOT, 'python', 'src');
/** One cell may take this long: a batch of a few tiles on the emulator ends in well under a minute. */
const CELL_TIMEOUT_SECONDS = 300;

/** The Python package's test venv, created the first time (a few minutes with a network). */
export function notebookPython(log?: (line: string) => void): Promise<string> {
  return venvPython({ name: 'python', requirementsFile: REQUIREMENTS }, log);
}

/** One cell of an executed notebook, as nbformat 4 writes it. */
export interface ExecutedCell {
  cell_type: 'code' | 'markdown' | 'raw';
  source: string | string[];
  outputs?: Array<{ output_type: string; name?: string; text?: string | string[]; ename?: string; evalue?: string }>;
}

/** What a notebook run left: the exit code, the runner's output and the executed notebook. */
export interface NotebookRun {
  code: number;
  stderr: string;
  cells: ExecutedCell[];
  /** Everything the code cells printed (stdout and stderr streams), in order. */
  printed: string;
}

const joined = (text: string | string[] | undefined): string => (Array.isArray(text) ? text.join('') : (text ?? ''));

/**
 * Executes `examples/notebooks/<name>` with `env` (the notebook's settings) over the test's own
 * environment; the executed copy goes to `executedPath`.
 */
export async function runNotebook(
  python: string,
  name: string,
  executedPath: string,
  env: Record<string, string>,
  cwd: string,
): Promise<NotebookRun> {
  const args = [RUNNER, join(NOTEBOOKS_DIR, name), '--out', executedPath, '--cwd', cwd];
  args.push('--cell-timeout', String(CELL_TIMEOUT_SECONDS));
  const fullEnv = { ...process.env, PYTHONPATH: PACKAGE_SOURCES, PYTHONDONTWRITEBYTECODE: '1', ...env };
  const { code, stderr } = await new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(python, args, { env: fullEnv, maxBuffer: 16 * 1024 * 1024 }, (err, _stdout, errText) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr: errText });
    });
  });
  const executed = await readFile(executedPath, 'utf8').catch((err: unknown) => {
    throw new Error(`${name} was not executed (exit code ${code}): ${String(err)}\n${stderr}`);
  });
  const cells = (JSON.parse(executed) as { cells: ExecutedCell[] }).cells;
  const printed = cells
    .flatMap((cell) => cell.outputs ?? [])
    .filter((output) => output.output_type === 'stream')
    .map((output) => joined(output.text))
    .join('');
  return { code, stderr, cells, printed };
}

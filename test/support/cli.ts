/** The project's CLI as a real process, against a test harness's dev server. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Harness } from './harness';

export const CLI = join(__dirname, '..', '..', 'src', 'app', 'cli', 'main.js');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The harness's Temporal settings, and nothing of the developer's UI settings. */
function cliEnv(h: Harness, env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: h.server.address,
    TEMPORAL_NAMESPACE: h.server.namespace,
  };
  delete base.TEMPORAL_UI_URL;
  return { ...base, ...env };
}

/** Runs `openeo-temporal <args>`; resolves (never rejects) with its exit code and output. */
export function runCli(h: Harness, args: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: cliEnv(h, env) }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `openeo-temporal worker` as a process of its own; `output()` is all it printed so far. */
export function spawnCliWorker(
  h: Harness,
  taskQueue: string,
  env: Record<string, string>,
): { process: ChildProcess; output(): string; stop(): Promise<void> } {
  const child = spawn(process.execPath, [CLI, 'worker', '--task-queue', taskQueue], { env: cliEnv(h, env) });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    process: child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

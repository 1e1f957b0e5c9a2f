import { readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';

/** Contents of `<dataDir>/devserver.json`, written once a dev server is healthy. */
export interface DevServerState {
  /** The server's process id. */
  pid: number;
  /** gRPC frontend, `127.0.0.1:PORT`. */
  address: string;
  /** Web UI, absent when started headless. */
  uiUrl?: string;
  /** Namespace the server was started for (others may have been added since). */
  namespace: string;
  /** The SQLite file the server keeps its state in. */
  dbFile: string;
  /** The file the server's output goes to. */
  logFile: string;
  /** ISO timestamp. */
  startedAt: string;
}

/** Files a dev server keeps in its data directory. */
export function devServerFiles(dataDir: string) {
  const dir = path.resolve(dataDir);
  return {
    /** The data directory, absolute. */
    dataDir: dir,
    /** The server's SQLite database. */
    dbFile: path.join(dir, 'temporal.sqlite'),
    /** The server's log. */
    logFile: path.join(dir, 'temporal.log'),
    /** The running server's {@link DevServerState}. */
    stateFile: path.join(dir, 'devserver.json'),
    /** Held while a process starts a server here, so two never start at once. */
    lockFile: path.join(dir, 'devserver.lock'),
  };
}

/** The recorded state of the dev server in `dataDir`; undefined when there is none, or it is half-written. */
export async function readDevServerState(dataDir: string): Promise<DevServerState | undefined> {
  try {
    const parsed = JSON.parse(await readFile(devServerFiles(dataDir).stateFile, 'utf8')) as Partial<DevServerState>;
    if (typeof parsed.pid !== 'number' || typeof parsed.address !== 'string') return undefined;
    return parsed as DevServerState;
  } catch {
    return undefined; // missing or half-written: treat as "no server recorded"
  }
}

export async function writeDevServerState(dataDir: string, state: DevServerState): Promise<void> {
  // Atomically, so a concurrent reader never sees a truncated file.
  await writeFileAtomic(devServerFiles(dataDir).stateFile, JSON.stringify(state, null, 2) + '\n');
}

/** Removes the state file, but only if it still describes `pid` (a newer server may have replaced it). */
export async function removeDevServerState(dataDir: string, pid: number): Promise<void> {
  const state = await readDevServerState(dataDir);
  if (state?.pid === pid) await rm(devServerFiles(dataDir).stateFile, { force: true });
}

/** True when a process with this pid exists (signal 0 only checks, it sends nothing). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM means the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * True when `pid` is alive and, where /proc allows checking, is a `temporal server start-dev`
 * process: after a reboot the recorded pid may belong to something unrelated.
 */
export function isDevServerProcess(pid: number): boolean {
  if (!isProcessAlive(pid)) return false;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.includes('start-dev');
  } catch {
    return true; // no /proc (macOS) or no permission: the health check has to decide
  }
}

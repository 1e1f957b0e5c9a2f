import { type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { isProcessAlive, removeDevServerState } from './state-file';

/** Where a running dev server can be reached. */
export interface DevServerInfo {
  /** gRPC address, `127.0.0.1:PORT`. */
  address: string;
  /** The namespace the server was set up with. */
  namespace: string;
  /** The server's process id. */
  pid: number;
  /** Absolute data directory (SQLite file, log, devserver.json). */
  dataDir: string;
  /** `http://127.0.0.1:UIPORT`, absent when headless. */
  uiUrl?: string;
  /** True when this handle points at a server that was already running (possibly another process's). */
  reused: boolean;
}

/** A running dev server, started by this process or found running. */
export class DevServer implements DevServerInfo {
  readonly address: string;
  readonly namespace: string;
  readonly pid: number;
  readonly dataDir: string;
  readonly uiUrl?: string;
  readonly reused: boolean;
  private childExited = false;

  constructor(
    info: DevServerInfo,
    private readonly stopGraceMs = 10_000,
    /** Only for servers this process spawned: their 'exit' event is more reliable than polling a pid. */
    private readonly child?: ChildProcess,
  ) {
    this.address = info.address;
    this.namespace = info.namespace;
    this.pid = info.pid;
    this.dataDir = info.dataDir;
    this.uiUrl = info.uiUrl;
    this.reused = info.reused;
    if (child) {
      this.childExited = child.exitCode !== null || child.signalCode !== null;
      child.once('exit', () => (this.childExited = true));
    }
  }

  /** Whether the server process is still running. */
  get running(): boolean {
    return this.child ? !this.childExited : isProcessAlive(this.pid);
  }

  /** Stops the server (also a reused one): SIGTERM, then SIGKILL if it is still up after the grace period. */
  async stop(): Promise<void> {
    if (this.running) {
      signal(this.pid, 'SIGTERM');
      if (!(await this.waitForExit(this.stopGraceMs))) {
        signal(this.pid, 'SIGKILL');
        await this.waitForExit(5_000);
      }
    }
    await removeDevServerState(this.dataDir, this.pid);
  }

  /** SIGKILLs the server with no cleanup, like a crash; `devserver.json` stays behind, stale. */
  kill(): void {
    if (this.running) signal(this.pid, 'SIGKILL');
  }

  /** @returns whether the process exited within `timeoutMs`. */
  async waitForExit(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.running) {
      if (Date.now() > deadline) return false;
      await sleep(50);
    }
    return true;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  // process.kill(0 or negative) would signal whole process groups, never what we mean.
  if (!(pid > 0)) return;
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error; // already gone is fine
  }
}

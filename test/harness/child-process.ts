/** Stopping the servers the tests start as child processes. */
import type { ChildProcess } from 'node:child_process';

/** Stops a process with SIGTERM, and SIGKILL when it has not exited after `graceMs`; at once if it has ended. */
export async function terminate(child: ChildProcess | undefined, graceMs = 10_000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

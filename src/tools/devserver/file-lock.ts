import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { lock } from 'proper-lockfile';

/** Options for {@link withFileLock}. */
export interface FileLockOptions {
  /**
   * How long to wait for another process to release the lock before giving up.
   * @default 1_800_000 (30 minutes: long enough for a cold Go build)
   */
  timeoutMs?: number;
  /** Told once when this process has to wait for another holder. */
  onWait?: () => void;
  /**
   * Pause between attempts while waiting.
   * @default 500
   */
  pollMs?: number;
}

/**
 * A holder refreshes its lock's mtime every STALE_MS / 2; a lock older than this is one whose
 * holder died (or hung), and the next caller takes it over.
 */
const STALE_MS = 10_000;

/**
 * Runs `task` while holding an exclusive lock, so that concurrent processes (two terminals
 * running `openeo-temporal dev`, parallel test files) do the same expensive work only once:
 * the second one waits and then usually finds the result already there.
 *
 * The lock is proper-lockfile's: a directory at `lockPath` whose mtime its holder keeps fresh.
 * A lock left behind by a dead process is taken over once stale (10 s) instead of being
 * waited on forever; one held by a process that exits, even on a signal, is removed then.
 */
export async function withFileLock<T>(
  lockPath: string,
  task: () => Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const release = await acquire(lockPath, options);
  try {
    return await task();
  } finally {
    // Rejects only when the lock was already lost, which onCompromised has reported.
    await release().catch(() => undefined);
  }
}

async function acquire(lockPath: string, options: FileLockOptions): Promise<() => Promise<void>> {
  const { timeoutMs = 30 * 60_000, pollMs = 500, onWait } = options;
  const deadline = Date.now() + timeoutMs;
  let toldWaiting = false;
  for (;;) {
    try {
      return await lock(lockPath, {
        lockfilePath: lockPath,
        realpath: false, // the lock is not beside a file of its own
        stale: STALE_MS,
        // The library's default throws from a timer, which would crash the process. Whoever
        // took the lock over may now do the same work; every task here ends in an atomic step.
        onCompromised: (error) => process.emitWarning(`lost the lock ${lockPath}: ${error.message}`),
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') {
        // A lock file (not directory) of earlier versions, found stale: remove it and try again.
        await rm(lockPath, { force: true });
        continue;
      }
      if (code !== 'ELOCKED') throw error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out waiting for the lock ${lockPath}. ` +
          `If no other openeo-temporal process is running, delete that directory and retry.`,
      );
    }
    if (!toldWaiting) {
      toldWaiting = true;
      onWait?.();
    }
    await sleep(pollMs);
  }
}

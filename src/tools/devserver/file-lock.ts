import { open, readFile, rm, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** Options for {@link withFileLock}. */
export interface FileLockOptions {
  /**
   * How long to wait for another process to release the lock before giving up.
   * @default 1_800_000 (30 minutes: long enough for a cold Go build)
   */
  timeoutMs?: number;
  /** Told once when this process has to wait for another holder. */
  onWait?: (holderPid: number | undefined) => void;
  /**
   * Pause between attempts while waiting.
   * @default 500
   */
  pollMs?: number;
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

async function readHolderPid(lockPath: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(lockPath, 'utf8')).trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Grace for a lock file whose pid is not written yet (its creator may be between open and write). */
const UNWRITTEN_LOCK_GRACE_MS = 10_000;

async function isStaleLock(lockPath: string, holderPid: number | undefined): Promise<boolean> {
  if (holderPid !== undefined) return !isProcessAlive(holderPid);
  try {
    return Date.now() - (await stat(lockPath)).mtimeMs > UNWRITTEN_LOCK_GRACE_MS;
  } catch {
    return false; // gone already: the next attempt to create it will tell
  }
}

/**
 * Runs `task` while holding an exclusive lock file, so that concurrent processes
 * (two terminals running `openeo-temporal dev`, parallel test files) do the
 * same expensive work only once: the second one waits and then usually finds
 * the result already there.
 *
 * The lock file holds the owner's pid; a lock left behind by a dead process is
 * taken over instead of being waited on forever.
 */
export async function withFileLock<T>(
  lockPath: string,
  task: () => Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const { timeoutMs = 30 * 60_000, pollMs = 500, onWait } = options;
  const deadline = Date.now() + timeoutMs;
  let toldWaiting = false;

  for (;;) {
    try {
      const handle = await open(lockPath, 'wx');
      try {
        await handle.writeFile(String(process.pid));
      } finally {
        await handle.close();
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }

    const holderPid = await readHolderPid(lockPath);
    if (await isStaleLock(lockPath, holderPid)) {
      // Re-read right before removing: another waiter may already have replaced the stale lock.
      if ((await readHolderPid(lockPath)) === holderPid) await rm(lockPath, { force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Timed out waiting for the lock ${lockPath} (held by pid ${holderPid ?? 'unknown'}). ` +
          `If no other openeo-temporal process is running, delete that file and retry.`,
      );
    }
    if (!toldWaiting) {
      toldWaiting = true;
      onWait?.(holderPid);
    }
    await sleep(pollMs);
  }

  try {
    return await task();
  } finally {
    await rm(lockPath, { force: true });
  }
}

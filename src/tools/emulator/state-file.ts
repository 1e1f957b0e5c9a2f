/**
 * Reading and writing the emulator's state file. Writes are debounced (a
 * burst of job changes becomes one write), serialized (never two writers on
 * one file) and atomic (write-file-atomic: a temporary file renamed into
 * place), so a crash leaves either the previous or the new state, never half of one.
 */
import { readFile } from 'node:fs/promises';
import writeFileAtomic from 'write-file-atomic';

/** Reads and parses the file; `undefined` when it does not exist yet. */
export async function readStateFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(
      `emulator state file ${path} is not valid JSON (${(error as Error).message}); move it away to start afresh`,
      { cause: error },
    );
  }
}

/** Keeps the state file up to date with a snapshot function. */
export class StateFileWriter {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  /**
   * @param path the state file
   * @param snapshot returns the JSON-serialisable state to write
   * @param debounceMs delay between a change and the write
   * @default debounceMs 50
   */
  constructor(
    private readonly path: string,
    private readonly snapshot: () => unknown,
    private readonly debounceMs = 50,
    private readonly onError: (error: Error) => void = () => undefined,
  ) {}

  /** Asks for a write soon; repeated calls before it happens are merged. */
  schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // Failures reach onError through `writing`; this promise is only for flush().
      this.enqueueWrite().catch(() => undefined);
    }, this.debounceMs);
    // A pending save must not keep a finished test process alive; close() flushes anyway.
    this.timer.unref();
  }

  /**
   * Writes the current state now and waits for it.
   * @throws the write's error (unlike scheduled writes, which report to `onError`)
   */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    await this.enqueueWrite();
  }

  private enqueueWrite(): Promise<void> {
    // The snapshot is taken when the write starts, so it includes every change before it.
    const done = this.writing.then(() => this.write());
    this.writing = done.catch((error: unknown) => this.onError(error as Error));
    return done;
  }

  private async write(): Promise<void> {
    // The tools import nothing of the library, so not src/core's writeFileAtomically; a fresh
    // options object each time, as the library writes into it.
    await writeFileAtomic(this.path, `${JSON.stringify(this.snapshot())}\n`, { mode: 0o600 });
  }
}

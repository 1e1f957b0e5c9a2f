/**
 * The one way this project replaces a file whole: write-file-atomic writes a temporary file
 * beside the target, flushes it to disk and renames it into place, so a reader (or the next
 * start after a crash) finds either the old contents or the new, never half of them.
 */
import writeFileAtomic from 'write-file-atomic';

/** Options of {@link writeFileAtomically}. */
export interface AtomicWriteOptions {
  /** Permissions of the file, e.g. 0o600 for secrets. @default those of the file it replaces, else 0o666 less the umask */
  mode?: number;
}

/**
 * Replaces `path` with `data` atomically. Writes to the same path from this process are queued,
 * each with a temporary name of its own; a failed write leaves the old file and no temporary one.
 */
export async function writeFileAtomically(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions = {},
): Promise<void> {
  // A fresh options object per call: the library records the old file's mode and owner in the
  // object it is given, which would leak into the caller's next write.
  const bytes = typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  await writeFileAtomic(path, bytes, options.mode === undefined ? {} : { mode: options.mode });
}

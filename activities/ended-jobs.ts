/**
 * Descriptions of ended jobs that this worker has just read, kept for the activity that comes
 * next. The tracker reads a job it follows alone with `GET /jobs/{id}`: when that reading shows
 * the job finished, the download that follows on the same worker takes the description from
 * here instead of asking for it again. An ended job's description no longer changes, so a
 * recent copy is as good as a fresh one; a worker that did not read it (or read it too long
 * ago) simply asks.
 */
import type { BackendRef } from '../src/core/openeo/connections';

/** Descriptions kept at most, and for how long: enough for the downloads a tracker's round starts. */
const KEPT = 1_000;
const KEPT_FOR_MS = 10 * 60_000;

/** `Description` is what the tracker reads (`JobDescription`); any type, so this module stands alone. */
export class EndedJobDescriptions<Description> {
  private readonly kept = new Map<string, { description: Description; at: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  remember(backend: BackendRef, jobId: string, description: Description): void {
    const key = keyOf(backend, jobId);
    this.kept.delete(key);
    this.kept.set(key, { description, at: this.now() });
    if (this.kept.size > KEPT) this.kept.delete(this.kept.keys().next().value!);
  }

  /** The description read recently, once: a second download of the job (a retry) reads it anew. */
  take(backend: BackendRef, jobId: string): Description | undefined {
    const key = keyOf(backend, jobId);
    const entry = this.kept.get(key);
    this.kept.delete(key);
    return entry && this.now() - entry.at <= KEPT_FOR_MS ? entry.description : undefined;
  }
}

function keyOf(backend: BackendRef, jobId: string): string {
  return `${backend.name} ${backend.url} ${jobId}`;
}
